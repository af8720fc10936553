"""What the screen shows, at 80×24 and 160×48, in two themes (pytest-textual-snapshot).

The probe answer and the session are injected (tests/test_ui_data.py), so the
pictures do not depend on the machine or the clock.  Update after an intended
change with ``pytest tests/test_ui_snapshots.py --snapshot-update`` and look at
the report before committing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from test_ui_data import fixed_caps, session_events, sweep_events
from textual.pilot import Pilot

from qtui.ui.app import QtuiApp


@pytest.fixture(autouse=True)
def _fixed_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def settled(pilot: Pilot[Any]) -> None:
    """Wait until the lazily mounted panels exist and show the injected session."""
    app = pilot.app
    assert isinstance(app, QtuiApp)
    for _ in range(100):
        await pilot.pause(0.05)
        if app.panels_drawn() and (app.query("#start") or not app.query("RunForm")):
            break
    await pilot.pause(0.1)


def session_app(theme: str, sweep: bool = False) -> QtuiApp:
    return QtuiApp(
        theme=theme,
        capabilities=fixed_caps(),
        events=sweep_events() if sweep else session_events(),
        gpu=False,
        record_history=False,
        persist_theme=False,
    )


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_monitor(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    assert snap_compare(session_app(theme), terminal_size=size, press=["_"], run_before=settled)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_results_tab(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(
        session_app("dark"), terminal_size=size, press=["3", "_"], run_before=settled
    )


def test_warnings_tab_high_contrast(snap_compare: Any) -> None:
    assert snap_compare(
        session_app("high-contrast"), terminal_size=(80, 24), press=["4", "_"], run_before=settled
    )


def test_setup_form(snap_compare: Any) -> None:
    app = QtuiApp(
        capabilities=fixed_caps(),
        gpu=False,
        record_history=False,
        persist_theme=False,
        theme="dark",
    )
    assert snap_compare(app, terminal_size=(80, 24), press=["_"], run_before=settled)


async def sweep_predicted(pilot: Pilot[Any]) -> None:
    """Settled, on the sweep tab, with the predictions drawn (they are computed off the
    UI thread, a second or two after the points arrive)."""
    await settled(pilot)
    await pilot.press("7")
    for _ in range(600):
        await pilot.pause(0.05)
        if "Predicted at" in str(pilot.app.query_one("#sweep-predicted").render()):
            break
    else:
        raise AssertionError("the sweep tab's predictions were not drawn in 30 s")
    notes = pilot.app.query_one("#sweep-notes")
    for _ in range(100):  # and laid out: the notes now overflow, so their scrollbar shows
        await pilot.pause(0.02)
        if notes.max_scroll_y > 0:
            return
    raise AssertionError("the sweep notes were not laid out again after the predictions")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_sweep_tab(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(
        session_app("dark", sweep=True), terminal_size=size, press=["_"], run_before=sweep_predicted
    )


def test_phases_tab(snap_compare: Any) -> None:
    assert snap_compare(
        session_app("dark", sweep=True), terminal_size=(80, 24), press=["6", "_"],
        run_before=settled,
    )


def test_results_tab_sweep_light(snap_compare: Any) -> None:
    assert snap_compare(
        session_app("light", sweep=True), terminal_size=(80, 24), press=["3", "_"],
        run_before=settled,
    )


def test_setup_form_sweep_mode(snap_compare: Any) -> None:
    app = QtuiApp(
        capabilities=fixed_caps(),
        gpu=False,
        record_history=False,
        persist_theme=False,
        theme="dark",
    )
    assert snap_compare(app, terminal_size=(80, 24), press=["w", "_"], run_before=settled)


def in_progress_events(cores: int) -> list[Any]:
    """The snapshot session with its second run stopped at batch 60 of 240, still
    running, on a node of ``cores`` cores: unequal loss series on one x axis."""
    from qtui.core import events as ev

    out: list[Any] = []
    batches = 0
    for e in session_events():
        if getattr(e, "run_id", None) == "r2":
            if isinstance(e, ev.Batch):
                batches += 1
                if batches > 60:
                    continue
            elif isinstance(e, (ev.Epoch, ev.Phases)) or e.type in ev.TERMINAL_TYPES:
                continue
        if isinstance(e, ev.SessionFinished):
            continue
        if isinstance(e, ev.Sample) and e.percpu:
            e = ev.replace(e, percpu=[float((i * 37) % 101) for i in range(cores)])
        out.append(e)
    return out


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_monitor_run_in_progress_many_cores(
    snap_compare: Any, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_ui_data import T0

    from qtui.ui.state import LiveState

    elapsed = LiveState.elapsed  # a running run's elapsed time must not follow the clock
    monkeypatch.setattr(LiveState, "elapsed", lambda self, rec, now=None: elapsed(self, rec, T0 + 60))
    app = QtuiApp(theme="dark", capabilities=fixed_caps(), events=in_progress_events(128),
                  gpu=False, record_history=False, persist_theme=False)
    assert snap_compare(app, terminal_size=size, press=["_"], run_before=settled)
