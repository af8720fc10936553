"""History you can work with (issue 23): the loss curves of two or more sessions in one
chart, as W&B's and MLflow's run comparisons draw them; and the history's 80-column
defects (the footer's keys, ``qtui history``'s names of script runs).

Real history databases hold sessions written by real runs (tiny forum runs of three
epochs on the suite's warm fork server, and a real ``qtui exec`` run) and the recorded
session (``real_events``).  The app's history screen runs in ``App.run_test()`` with
keys sent in one burst (``ui_helpers.burst``); the HTML export is ``qtui compare
--html`` through ``qtui.cli.main.main``.  One function, ``analysis.comparison
.loss_overlay``, gives the curves both views draw: the tests hold each view to it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import run_session, tiny
from test_ui_cut_text import screen_lines, wait_for
from test_ui_data import fixed_caps, session_events
from test_ui_form import form_ready
from test_ui_history_compare import Host
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey
from ui_helpers import burst, settle

from qtui.analysis.comparison import LossOverlay, loss_overlay
from qtui.cli.main import main
from qtui.core import events as ev
from qtui.core.config import SCRIPT_CHOICE, RunSpec
from qtui.core.summary_schema import Summary
from qtui.engine.forkserver import ProcessExecutor
from qtui.session.exec_spec import exec_params
from qtui.store.history_db import HistoryDB
from qtui.ui.app import QtuiApp
from qtui.ui.screens.comparison import ComparisonScreen
from qtui.ui.screens.history import HistoryScreen
from qtui.ui.widgets.graph import LineGraph

TESTS = Path(__file__).resolve().parent
EPOCHS = 3


def record(path: Path, *sessions: list[ev.Event]) -> None:
    with HistoryDB(path) as db:
        for events in sessions:
            for e in events:
                db.record(e)


@pytest.fixture(scope="module")
def trained(warm_executor: ProcessExecutor) -> dict[str, list[ev.Event]]:
    """Two real sessions of three-epoch forum runs: ``early`` one backprop run at lr 0.2,
    ``later`` backprop at lr 0.05 and adjoint at lr 0.05 (so the curves differ)."""
    out = {}
    for sid, specs in (
        ("early", [RunSpec("default.qubit", "backprop", tiny(epochs=EPOCHS), run_id="r1")]),
        ("later", [RunSpec("default.qubit", "backprop", tiny(epochs=EPOCHS, lr=0.05), run_id="r1"),
                   RunSpec("default.qubit", "adjoint", tiny(epochs=EPOCHS, lr=0.05), run_id="r2")]),
    ):
        _, rec = run_session(specs, executor=warm_executor, session_id=sid)
        ends = {e.run_id: e.type for e in rec.events if e.type in ev.TERMINAL_TYPES}
        assert set(ends.values()) == {"run_finished"}, ends
        out[sid] = list(rec.events)
    return out


@pytest.fixture
def three(trained: dict[str, list[ev.Event]], real_events: list[ev.Event],
          tmp_path: Path) -> tuple[Path, dict[str, Summary]]:
    """A database of the recorded session and the two trained ones, with their
    summaries by id, as the history rebuilds them."""
    path = tmp_path / "h.sqlite3"
    record(path, real_events, trained["early"], trained["later"])
    with HistoryDB(path) as db:
        return path, {str(s["session_id"]): db.summary(str(s["session_id"])) for s in db.sessions()}


def _listed(screen: HistoryScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(row.value) for row in table.rows]


def _error(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-error", Static).render())


def _finite(values: Any) -> list[float | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]


def _drawn(screen: ComparisonScreen) -> list[tuple[str, list[float | None]]]:
    graph = screen.query_one("#cmp-loss", LineGraph)
    return [(s.name, _finite(s.values)) for s in graph.series]


def _curves(overlay: LossOverlay) -> list[tuple[str, list[float | None]]]:
    return [(c.name, _finite(c.losses)) for c in overlay.curves]


def _legend_lines(screen: ComparisonScreen) -> list[str]:
    legend = screen.query_one("#cmp-legend", Static)
    return [s.text.rstrip() for s in legend.render_lines(legend.region.reset_offset)]


# the overlay: one function ------------------------------------------------------------


def test_the_overlay_has_one_curve_per_session_and_combination(
    three: tuple[Path, dict[str, Summary]],
) -> None:
    _, by_id = three
    overlay = loss_overlay([("early", by_id["early"]), ("later", by_id["later"]),
                            ("test-016ed4e2", by_id["test-016ed4e2"])])
    assert [(s.letter, s.session_id) for s in overlay.sessions] == [
        ("A", "early"), ("B", "later"), ("C", "test-016ed4e2")]
    names = [c.name for c in overlay.curves]
    # the recorded session's finite-diff run failed: no loss, no curve; its two backprop
    # runs are one curve, their mean per epoch
    assert names == [
        "A default.qubit+backprop", "B default.qubit+backprop", "B default.qubit+adjoint",
        "C default.qubit+backprop (2 runs)", "C lightning.qubit+adjoint",
    ], names
    early = by_id["early"].runs[0].epoch_losses
    assert overlay.curves[0].losses == early and len(early) == EPOCHS
    assert overlay.curves[0].losses != overlay.curves[1].losses  # lr 0.2 against lr 0.05
    recorded = [r.epoch_losses for r in by_id["test-016ed4e2"].runs if r.parameters["diff_method"]
                == "backprop"]
    assert overlay.curves[3].losses == [sum(x[0] for x in recorded) / 2]
    assert [c.runs for c in overlay.curves] == [1, 1, 1, 2, 1]


# the app's history screen --------------------------------------------------------------


async def test_space_marks_sessions_and_c_overlays_their_loss_curves(
    three: tuple[Path, dict[str, Summary]],
) -> None:
    """``space`` marks, ``c`` opens one chart with every marked session's curves: the
    keys in one burst, as over SSH, at 80x24; the legend names session and combination
    whole, and the two sessions' verdict table is there too."""
    path, by_id = three
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert _listed(screen) == ["later", "early", "test-016ed4e2"]
        await burst(pilot, "space", "down", "space", "c")
        cmp = app.screen
        assert isinstance(cmp, ComparisonScreen), _error(screen)
        # the older is A: sessions in the order they ran
        expected = loss_overlay([("early", by_id["early"]), ("later", by_id["later"])])
        assert _drawn(cmp) == _curves(expected)
        assert [s.letter for s in cmp.overlay.sessions] == ["A", "B"]
        lines = _legend_lines(cmp)
        for curve in expected.curves:  # each name whole on one line, never cut
            assert any(curve.name in line for line in lines), (curve.name, lines)
        assert not any("…" in line for line in screen_lines(app)), screen_lines(app)
        # the verdicts match combinations on every parameter: backprop's lr differs, so
        # there is no table, and the title says why
        assert not cmp.query("#cmp-table")
        title = str(cmp.query_one("#cmp-title", Static).render())
        assert "No combination with the same parameters in both sessions." in title, title
        await burst(pilot, "escape")
        assert app.screen is screen
        # the marks stay; space again unmarks
        assert screen.marked == ["later", "early"]
        await burst(pilot, "space")
        assert screen.marked == ["later"]


async def test_three_marked_sessions_share_one_chart(three: tuple[Path, dict[str, Summary]]) -> None:
    path, by_id = three
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await burst(pilot, "space", "down", "space", "down", "space", "c")
        cmp = app.screen
        assert isinstance(cmp, ComparisonScreen), _error(screen)
        order = ["test-016ed4e2", "early", "later"]  # the recorded session ran first
        expected = loss_overlay([(sid, by_id[sid]) for sid in order])
        assert _drawn(cmp) == _curves(expected)
        title = str(cmp.query_one("#cmp-title", Static).render())
        for s in expected.sessions:
            assert f"{s.letter} = {s.session_id}" in title, title
        # a verdict compares two sessions: with three, the chart alone, and it says so
        assert not cmp.query("#cmp-table")
        assert "mark two sessions for the verdicts" in title, title


async def test_one_marked_session_says_to_mark_another(three: tuple[Path, dict[str, Summary]]) -> None:
    path, _ = three
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "down", "space", "c")
        assert app.screen is screen
        assert screen.marked == ["early"]
        assert _error(screen) == ("1 session marked: mark another with space, and c overlays "
                                  "their loss curves")
        # the mark shows in the list
        table = screen.query_one(DataTable)
        cells = {str(r.value): str(table.get_row(r)[0]) for r in table.rows}
        assert cells == {"later": "  later", "early": "✓ early",
                         "test-016ed4e2": "  test-016ed4e2"}, cells


async def test_c_with_no_mark_overlays_the_past_session_and_this_one(
    three: tuple[Path, dict[str, Summary]], real_events: list[ev.Event],
) -> None:
    """As before: the highlighted session against this app's; now with both curves."""
    path, by_id = three
    current = by_id["later"]
    screen = HistoryScreen(lambda: HistoryDB(path), current=lambda: current)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "down", "c")
        cmp = app.screen
        assert isinstance(cmp, ComparisonScreen), _error(screen)
        expected = loss_overlay([("early", by_id["early"]), ("this session", current)])
        assert _drawn(cmp) == _curves(expected)
        title = str(cmp.query_one("#cmp-title", Static).render())
        assert "A = early" in title and "B = this session" in title, title
        # this app's own session stays refused
        await burst(pilot, "escape", "up", "c")
        assert app.screen is screen
        assert _error(screen).startswith("A and B are the same session (later)")


# the HTML export of a comparison -------------------------------------------------------


def _plotly_traces(page: str) -> list[dict[str, Any]]:
    """Every trace of every chart in the page, as plotly.newPlot receives it."""
    traces: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page):
        data, _ = decoder.raw_decode(page, m.end())
        traces += data
    return traces


def test_qtui_compare_html_draws_each_sessions_curves(
    three: tuple[Path, dict[str, Summary]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    _, by_id = three
    a, b = tmp_path / "early.json", tmp_path / "later.json"
    a.write_bytes(by_id["early"].dumps())
    b.write_bytes(by_id["later"].dumps())
    out = tmp_path / "cmp.html"
    capsys.readouterr()
    assert main(["compare", str(a), str(b), "--html", str(out)]) == 0
    _, err = capsys.readouterr()
    # the lr differs, so no combination is in both: the verdicts say so, the chart draws all
    assert err.splitlines() == [f"qtui: wrote {out}", "No combination appears in both files."], err
    page = out.read_text()
    expected = loss_overlay([(str(a), by_id["early"]), (str(b), by_id["later"])])
    drawn = [(t["name"], _finite(t["y"])) for t in _plotly_traces(page) if t.get("type") == "scatter"]
    assert drawn == _curves(expected)
    # the page carries its data, and names both files
    data = re.search(r'<script type="application/json" id="qtui-comparison">(.*?)</script>', page, re.S)
    assert data is not None
    doc = json.loads(data.group(1))
    assert [c["name"] for c in doc["overlay"]["curves"]] == [c.name for c in expected.curves]
    assert doc["comparison"]["a"]["session_id"] == "early"
    assert str(a) in page and str(b) in page
    # an existing file is kept unless --force
    assert main(["compare", str(a), str(b), "--html", str(out)]) == 2
    _, err = capsys.readouterr()
    assert "use --force to overwrite it" in err
    assert main(["compare", str(a), str(b), "--html", str(out), "--force"]) == 0


# the snapshot at 80x24 --------------------------------------------------------------------


def _synthetic(sid: str, scale: float, t0: float) -> list[ev.Event]:
    """The snapshot session (``test_ui_data``) under another id, its losses scaled (its
    second run's a little lower, so that every curve shows), its times moved: the
    picture depends on neither the machine nor the clock."""
    out = []
    for e in session_events():
        d = e.to_dict()
        run_scale = scale * (0.8 if d.get("run_id") == "r2" else 1.0)
        if "session_id" in d:
            d["session_id"] = sid
        for key in ("t", "first_t", "last_t"):
            if isinstance(d.get(key), float):
                d[key] += t0
        for key in ("loss", "mean_loss", "final_loss"):
            if isinstance(d.get(key), float):
                d[key] *= run_scale
        if d.get("epoch_losses"):
            d["epoch_losses"] = [x * run_scale for x in d["epoch_losses"]]
        out.append(ev.from_dict(d))
    return out


def test_the_overlay_at_80x24(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    path = tmp_path / "h.sqlite3"
    record(path, _synthetic("baseline", 1.0, 0.0), _synthetic("lr-half", 1.3, 86400.0))
    screen = HistoryScreen(lambda: HistoryDB(path))

    async def marked(pilot: Any) -> None:
        await settle(pilot)
        await burst(pilot, "space", "down", "space", "c")
        await settle(pilot)

    assert snap_compare(Host(screen), terminal_size=(80, 24), run_before=marked)


# 80 columns: the footer, and qtui history's run names ----------------------------------


async def test_every_history_key_is_whole_in_the_footer_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``esc Back  c Compare with this session  a Re-attach (cluster)  / Fil▏^p palette``:
    n, t, o and d were off the screen (c and a took their room)."""
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path))
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await form_ready(pilot, app)
        await burst(pilot, "h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "h opened nothing")
        await settle(pilot)
        last = screen_lines(app)[-1]
        footer = [k for k in app.screen.query(FooterKey) if k.action != "app.command_palette"]
        assert {k.key for k in footer} >= {"escape", "c", "space", "n", "t", "o", "d"}, footer
        for key in footer:
            words = f"{key.key_display or app.get_key_display(Binding(key.key, ''))} {key.description}"
            assert words in last, (words, last, " ".join(f"{k.key}:{k.description}" for k in footer))
        assert last.rstrip().endswith("^p palette"), last
        # / and a (cluster sessions only) are said in the title, whole
        assert "/ filters · a re-attaches (cluster)" in screen_lines(app)[0]


@pytest.fixture(scope="module")
def exec_session(warm_executor: ProcessExecutor, tmp_path_factory: pytest.TempPathFactory) -> list[ev.Event]:
    """A real session: one ``qtui exec`` run of a tiny script beside one forum run."""
    cwd = tmp_path_factory.mktemp("exec")
    command = (str(TESTS / "scripts" / "hybrid_train.py"), "--steps", "3")
    specs = [
        RunSpec(SCRIPT_CHOICE, SCRIPT_CHOICE, exec_params(command), command=command,
                cwd=str(cwd), run_id="r1"),
        RunSpec("default.qubit", "backprop", tiny(), run_id="r2"),
    ]
    _, rec = run_session(specs, executor=warm_executor, session_id="with-script")
    ends = {e.run_id: e.type for e in rec.events if e.type in ev.TERMINAL_TYPES}
    assert ends == {"r1": "run_finished", "r2": "run_finished"}, ends
    return list(rec.events)


@pytest.mark.parametrize("columns", [80, 200])
def test_qtui_history_names_a_script_run_by_its_script_and_arguments(
    exec_session: list[ev.Event], tmp_path: Path, columns: int,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its runs table said ``script+script #1`` for the script run, its list of sessions
    ``script+script``: the name every other view gives it is its script, arguments and
    what it ran on, whole."""
    monkeypatch.setenv("COLUMNS", str(columns))
    path = tmp_path / "h.sqlite3"
    record(path, exec_session)
    capsys.readouterr()
    assert main(["history", "with-script", "--db", str(path)]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns, out
    script = "hybrid_train.py --steps 3 on default.qubit+backprop #1"
    assert any(script in line for line in lines), out
    # the forum run keeps its own name, on its own row
    assert any(re.search(r"\br2\b.*(?<!on )default\.qubit\+backprop #1", line) for line in lines), out
    # and the list of sessions names the script too (it said script+script)
    assert main(["history", "--db", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "script+script" not in out and "hybrid_train.py --steps 3" in out, out


async def test_the_legend_follows_a_resize(three: tuple[Path, dict[str, Summary]]) -> None:
    """Laid out at the old width, 80 to 200 columns left a blank line under the legend."""
    path, _ = three
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "space", "down", "space", "c")
        cmp = app.screen
        assert isinstance(cmp, ComparisonScreen)
        legend = cmp.query_one("#cmp-legend", Static)
        assert legend.size.height == 2, _legend_lines(cmp)  # two entries a line at 80
        for size, lines in (((200, 50), 1), ((80, 24), 2)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert legend.size.height == lines, (size, _legend_lines(cmp))
            assert all(line.strip() for line in _legend_lines(cmp)), _legend_lines(cmp)
