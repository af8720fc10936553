"""Issue 24, item 4, an app as light as bare Textual: the first frame loads what it shows.

``qtui`` with no command paints its setup tab first.  Before that frame nothing may load
what the setup tab does not draw: the other subcommands (their argparse trees, the
report renderers, the SQLite history), the statistics behind the results tab, the
panels of the other tabs, the export screen.  They load once their tab mounts, after
the first frame (``qtui.ui.layout``), or when their command runs.

A fresh interpreter runs the real entry (``qtui.cli.main.main([])``, as ``python -m
qtui`` does), headless, and reports ``sys.modules`` as the app first writes a screen.
The time it takes is ``benchmarks/ui_first_frame.py``'s, not this test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qtui.core import events as ev

#: What the first frame of ``qtui`` must not have imported (prefixes: a package and
#: everything under it).  Each was loaded before the first frame once.
NOT_BEFORE_THE_FIRST_FRAME = (
    "numpy",
    "torch",
    "pennylane",
    "sqlite3",
    "csv",
    "html",
    "qtui.cli.commands",  # every subcommand's module and argparse tree
    "qtui.cli.session_start",
    "qtui.store",  # the SQLite history, loading, session marks
    "qtui.report",  # results model, narrative, console and export renderers
    "qtui.analysis.stats",
    "qtui.analysis.conclusion",
    "qtui.analysis.recommend",
    "qtui.analysis.crossovers",
    "qtui.analysis.thread_choice",
    "qtui.analysis.predictions",
    "qtui.analysis.comparison",
    "qtui.analysis.summary_builder",
    "qtui.session.capabilities",  # the probe cache: read after the first frame
    "qtui.session.adaptive",
    "qtui.ui.screens.export",
    "qtui.ui.widgets.graph",  # the plots: monitor tab
    "qtui.ui.widgets.loss_panel",
    "qtui.ui.widgets.cpu_panel",
    "qtui.ui.widgets.memory_panel",
    "qtui.ui.widgets.threadpools_panel",
    "qtui.ui.widgets.results_table",
    "qtui.ui.widgets.recommend_panel",
    "qtui.ui.widgets.sweep_panel",
    "qtui.ui.widgets.phases_panel",
    "qtui.ui.widgets.warnings_panel",
    "qtui.ui.widgets.run_queue",
    "textual.widgets._data_table",  # the queue's, results' and warnings' tables
    # the event schema and its decoder, the fold behind the live state, the executors:
    # the status line and the form's first frame draw none of them (issue 24, item 4)
    "msgspec",
    "qtui.core.events",
    "qtui.analysis.fold",
    "qtui.engine",
)

CHILD = r"""
import json, sys
import textual.app as textual_app
from textual.css.stylesheet import Stylesheet

_display = textual_app.App._display
_run = textual_app.App.run
_reparse = Stylesheet.reparse
_seen = []
_reparses = []
_collections = []  # the cyclic collector's runs from here to the first frame
import gc
gc.callbacks.append(lambda phase, info: phase == "start" and not _seen and _collections.append(1))

def counted_reparse(self):
    _reparses.append(1)
    return _reparse(self)

def first_display(self, screen, renderable):
    if not _seen:
        _seen.append(1)
        print("FIRST " + json.dumps({"app": type(self).__name__,
                                     "screen": type(screen).__name__,
                                     "modules": sorted(sys.modules),
                                     "reparses": len(_reparses),
                                     "collections": len(_collections)}), flush=True)
        self.call_later(self.exit)
    return _display(self, screen, renderable)

def headless_run(self, *args, **kwargs):
    kwargs.update(headless=True, size=(80, 24))
    return _run(self, *args, **kwargs)

textual_app.App._display = first_display
textual_app.App.run = headless_run
Stylesheet.reparse = counted_reparse
from qtui.cli.main import main
_collections.clear()  # counted from here: the command line's own imports are not the app's
sys.exit(main([]))
"""


def first_frame_modules(tmp_path: Path) -> dict[str, object]:
    """What the real ``qtui`` had imported when its first frame was written."""
    env = {
        **os.environ,
        "QTUI_DATA_DIR": str(tmp_path / "data"),
        "QTUI_CONFIG_DIR": str(tmp_path / "config"),
        "QTUI_CACHE_DIR": str(tmp_path / "cache"),
        "QTUI_NO_HISTORY": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("FIRST ")), None)
    assert line is not None, f"no first frame (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    data: dict[str, object] = json.loads(line[6:])
    return data


@pytest.mark.timeout(180)
def test_qtuis_first_frame_imports_only_what_the_setup_tab_shows(tmp_path: Path) -> None:
    data = first_frame_modules(tmp_path)
    assert data["app"] == "QtuiApp"  # the check is real: qtui's own app painted
    modules = set(data["modules"])  # type: ignore[call-overload]
    assert "qtui.ui.widgets.run_form" in modules  # the setup tab's form did load
    early = sorted(
        m for m in modules
        if any(m == p or m.startswith(p + ".") for p in NOT_BEFORE_THE_FIRST_FRAME)
    )
    assert early == [], f"imported before the first frame: {early}"


@pytest.mark.timeout(180)
def test_qtuis_css_is_parsed_once_before_its_first_frame(tmp_path: Path) -> None:
    """Setting the theme queues a refresh of the CSS; the CSS's first parse has the theme's
    variables already, so the refresh (parse everything again, restyle every widget, lay
    the screen out again: 7 % of the first frame's instructions) is not done."""
    data = first_frame_modules(tmp_path)
    assert data["app"] == "QtuiApp"
    assert data["reparses"] == 0


@pytest.mark.timeout(180)
def test_qtuis_start_runs_no_garbage_collection_before_its_first_frame(tmp_path: Path) -> None:
    """Starting, the app makes objects that live as long as it does (modules, widgets);
    the collector walked them 41 times (one a full collection) between ``main`` and the
    first frame, 19-34 ms of it.  It is off until the first frame has been written."""
    data = first_frame_modules(tmp_path)
    assert data["app"] == "QtuiApp"
    assert data["collections"] == 0


GC_AFTER = r"""
import gc, sys
import textual.app as textual_app

_display = textual_app.App._display
_run = textual_app.App.run
frames = []

def display(self, screen, renderable):
    frames.append(gc.isenabled())
    if len(frames) == 1:  # the app turns it back on after its first frame: wait for that
        self.set_interval(0.05, lambda: gc.isenabled() and self.exit())
    return _display(self, screen, renderable)

def headless_run(self, *args, **kwargs):
    kwargs.update(headless=True, size=(80, 24))
    return _run(self, *args, **kwargs)

textual_app.App._display = display
textual_app.App.run = headless_run
from qtui.cli.main import main
main([])
print("GC " + ("on" if gc.isenabled() else "off") + f" first frame {frames[0]}", flush=True)
"""


@pytest.mark.timeout(180)
def test_the_collector_is_back_on_once_the_first_frame_is_written(tmp_path: Path) -> None:
    env = {**os.environ, "QTUI_DATA_DIR": str(tmp_path / "data"), "QTUI_CONFIG_DIR": str(tmp_path / "config"),
           "QTUI_CACHE_DIR": str(tmp_path / "cache"), "QTUI_NO_HISTORY": "1"}
    proc = subprocess.run([sys.executable, "-c", GC_AFTER], capture_output=True, text=True, env=env, timeout=150)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("GC ")), None)
    assert line is not None, f"no app (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    assert line == "GC on first frame False"


async def test_a_run_highlighted_in_the_focused_queue_is_the_one_the_phases_panel_details(
    real_events: list[ev.Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app hears a queue's highlight by its handler's name, so that DataTable's module
    waits for the first table: the phases panel still follows the queue's cursor."""
    from test_ui_data import fixed_caps
    from ui_helpers import burst, settle

    from qtui.ui.app import QtuiApp
    from qtui.ui.widgets.run_queue import RunQueue

    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    app = QtuiApp(capabilities=fixed_caps(), events=real_events, gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await burst(pilot, "3")
        for _ in range(100):  # the results tab is built after the first frame
            if app.query("#queue"):
                break
            await settle(pilot)
        queue = app.query_one("#queue", RunQueue)
        assert queue.row_count >= 2
        queue.focus()
        await settle(pilot)
        picks = []
        for _ in range(2):
            await burst(pilot, "down")
            row = queue.coordinate_to_cell_key(queue.cursor_coordinate).row_key.value
            assert app.state.phases_pick == row
            picks.append(row)
        assert picks[0] != picks[1]


async def test_live_text_is_measured_as_textual_draws_it() -> None:
    """``set_text`` measures a text's shape to decide whether to lay the screen out again.
    Textual draws ``:smile:`` as written; measured through rich's markup it was one emoji
    (and loaded rich's 0.9 MB emoji table into the app for it)."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from qtui.ui.panel import set_text

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(id="text")

    app = One()
    async with app.run_test(size=(40, 5)) as pilot:
        widget = app.query_one("#text", Static)
        set_text(widget, "[b]mood[/b] :smile:")
        await pilot.pause()
        assert widget._qtui_shape == (1, len("mood :smile:"))  # type: ignore[attr-defined]
        assert widget.render_line(0).text.rstrip() == "mood :smile:"


EVERY_TAB = r"""
import asyncio, json, sys
from qtui.ui.app import QtuiApp
from qtui.ui.form_capabilities import StaticCapabilities
from qtui.ui.tabs import TABS

async def main():
    app = QtuiApp(gpu=False, capabilities=StaticCapabilities(["default.qubit"]),
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):  # every tab built (they are built after the first frame)
            if all(app.query(f"#{tab.id}") for tab in TABS):
                break
            await pilot.pause(0.02)
        for tab in TABS:
            app.action_tab(tab.id)
            await pilot.pause(0.05)
        print("MODULES " + json.dumps(sorted(sys.modules)), flush=True)

asyncio.run(main())
"""


@pytest.mark.timeout(180)
def test_no_tab_loads_richs_emoji_table(tmp_path: Path) -> None:
    """A str column title or a str measured through markup loads rich's emoji codes
    (0.9 MB of the UI's RSS); every tab, shown, must draw without them."""
    env = {**os.environ, "QTUI_DATA_DIR": str(tmp_path / "data"), "QTUI_CONFIG_DIR": str(tmp_path / "config"),
           "QTUI_CACHE_DIR": str(tmp_path / "cache"), "QTUI_NO_HISTORY": "1"}
    proc = subprocess.run([sys.executable, "-c", EVERY_TAB], capture_output=True, text=True, env=env, timeout=150)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("MODULES ")), None)
    assert line is not None, f"no tabs drawn (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    modules = set(json.loads(line[8:]))
    assert "qtui.ui.widgets.run_queue" in modules  # the monitor tab was built
    assert "rich._emoji_codes" not in modules
