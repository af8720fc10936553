"""Real runs through the app: loss, warning and result reach the panels; cancel; quit.

These start real runs, each a process forked from the session's fork server
(``qtui.engine.forkserver``; a fresh ``python -m qtui.engine.child`` only where
the server cannot run), training a tiny forum workload, so each takes a few
seconds.  The test workload
(tests/qtui_test_workload.py) warns three times per run, so a real warning
event must reach the warnings panel.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import psutil
import pytest
from engine_helpers import descendants
from test_ui_data import session_events
from textual.widgets import DataTable, Input, Static

from qtui.core import units
from qtui.engine.forkserver import ProcessExecutor
from qtui.ui.app import QtuiApp
from qtui.ui.screens.confirm import ConfirmScreen
from qtui.ui.widgets.cpu_panel import CpuPanel
from qtui.ui.widgets.graph import LineGraph
from qtui.ui.widgets.memory_panel import MemoryPanel
from qtui.ui.widgets.phases_panel import PhasesPanel
from qtui.ui.widgets.recommend_panel import RecommendationPanel
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_form import RunForm
from qtui.ui.widgets.threadpools_panel import ThreadPoolsPanel
from qtui.ui.widgets.warnings_panel import WarningsPanel

TESTS = Path(__file__).resolve().parent
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    # the child imports the test workload from tests/
    monkeypatch.setenv("PYTHONPATH", str(TESTS))


def fill(app: QtuiApp, **values: str) -> None:
    for key, value in values.items():
        app.query_one(f"#field-{key}", Input).value = value


async def wait_for(pilot: object, cond: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        await pilot.pause(0.1)  # type: ignore[attr-defined]
    raise AssertionError("condition not met in time")


async def wait_for_caps(pilot: object, app: QtuiApp) -> None:
    await wait_for(
        pilot, lambda: app.query(RunForm).first().caps is not None and app.query("#start"), 120
    )
    await pilot.pause(0.2)  # type: ignore[attr-defined]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_tiny_real_run_reaches_every_panel(
    tmp_path: Path, warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Other tests of the session may have imported torch in this process (thread
    # mode); this one checks the UI adds no heavy import of its own.  The clean
    # check is tests/test_import_boundaries.py, in a fresh interpreter.
    heavy_before = {m for m in ("torch", "pennylane") if m in sys.modules}
    # Forked warm, the four batches took less than the sampler's 0.1 s under load and
    # the run had no sample; 0.2 s a batch gives the sampler several readings.
    monkeypatch.setenv("QTUI_TEST_BATCH_SLEEP", "0.2")
    app = QtuiApp(gpu=False, executor=warm_executor)  # the real probe (cached)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="1", samples="20", batch_size="5", workload="qtui_test_workload:build")
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: (
                app.state.runs()
                and all(r.state not in ("queued", "running") for r in app.state.runs())
                and not app.control.active
            ),
        )
        await pilot.pause(0.3)
        (rec,) = app.state.runs()
        assert rec.state == "finished", rec.error
        assert len(rec.batch_losses) == 4 and len(rec.epoch_losses) == 1

        graph = app.query_one("#loss-graph", LineGraph)
        assert [list(x.values) for x in graph.series] == [list(rec.batch_losses)]

        table: DataTable[object] = app.query_one("#warnings-table", DataTable)
        assert table.row_count == 1
        panel = app.query_one(WarningsPanel)
        (w,) = panel.items.values()
        assert "qtui test warning" in w.message and w.count == 3

        results = app.query_one("#results-table", ResultsTable)
        assert results.row_count == 1
        assert "default.qubit+backprop" in str(results.get_row_at(0)[0])
        mean = results.combos[0].mean  # a typed Result (qtui.core.summary_schema)
        assert mean is not None and mean > 0

        # what the memory and CPU panels draw, not only what the state holds
        rss = app.state.rss_history.get(rec.run_id)
        assert rss, "the sampler's figures arrived"
        memory = app.query_one(MemoryPanel)
        mem_text = str(memory.query_one("#mem-stats", Static).render())
        peak = max(rec.result.get("peak_rss") or 0, max(rss), rec.last_sample.get("peak_rss") or 0)
        assert f"peak {units.memory(peak)}" in mem_text and "finished" in mem_text
        assert [list(x.values) for x in memory.query_one(LineGraph).series] == [rss]
        cpu = app.query_one(CpuPanel)
        assert cpu.percpu == app.state.percpu and len(cpu.percpu) == psutil.cpu_count()
        cpu_text = cpu.render().plain
        assert cpu_text.startswith("run ended: last sample")  # the run finished
        assert f"of {psutil.cpu_count()} cores" in str(app.query_one("#cpu-box").border_subtitle)

        # where the time went: every phase measured, the classical backward included
        phases = app.query_one(PhasesPanel)
        assert phases.run_title.endswith("default.qubit+backprop #1")
        assert phases.seconds["forward_device"] > 0 and phases.seconds["backward_nn"] > 0
        assert sum(phases.seconds.values()) > 0 and phases.steps == 4
        assert "backward nn layers" in str(phases.render())
        # thread pools beside the CPU bars; the recommendation names the only combination
        assert app.query_one(ThreadPoolsPanel).pools, "threadpoolctl's pools reached the panel"
        rec_lines = app.query_one(RecommendationPanel).lines
        assert rec_lines and rec_lines[0].startswith("Fastest: default.qubit+backprop")

        # exports: summary through qtui.report.export plus an SVG of the screen
        paths = app.export_to(tmp_path / "export")
        stem = paths[0].stem
        tabs = ("monitor", "results", "warnings", "phases", "sweep")
        assert sorted(p.name for p in paths) == sorted(
            [f"{stem}.{ext}" for ext in ("json", "md", "csv", "html", "svg")]
            + [f"{stem}-{tab}.svg" for tab in tabs] + [f"{stem}-samples.csv"]
        )
        assert all(p.exists() and p.stat().st_size > 500 for p in paths if "-samples" not in p.name)
        # each run's samples over time beside the runs' CSV (issue 23)
        samples = list(csv.DictReader((tmp_path / "export" / f"{stem}-samples.csv").open()))
        assert {r["run_id"] for r in samples} == {r.run_id for r in app.state.runs()}
        assert all(int(r["rss_bytes"]) > 0 for r in samples)
        assert "default.qubit+backprop" in (tmp_path / "export" / f"{stem}.html").read_text()
        await pilot.press("escape")

        # the session went to the history; the history screen opens it
        await pilot.press("h")
        await pilot.pause(0.3)
        hist: DataTable[object] = app.screen.query_one("#history-table", DataTable)
        assert hist.row_count == 1
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.screen.query_one(ResultsTable).row_count == 1

    assert {m for m in ("torch", "pennylane") if m in sys.modules} == heavy_before


async def test_cancel_selected_run_ends_the_child_within_2s(
    warm_executor: ProcessExecutor,
) -> None:
    app = QtuiApp(gpu=False, record_history=False, executor=warm_executor)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="200", repeat="2")
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(app.state.runs()) == 2, 10)
        await wait_for(pilot, lambda: any(r.batch_losses for r in app.state.runs()))
        running = next(r for r in app.state.runs() if r.state == "running")
        pid = int(running.started["pid"])
        assert psutil.pid_exists(pid)
        await pilot.press("c")
        # the outcome, not the speed (benchmarks/cancel_latency.py measures that)
        await wait_for(pilot, lambda: gone(pid), 60)
        await wait_for(pilot, lambda: running.state == "cancelled", 60)
        # the second repeat starts next; cancel everything
        await wait_for(pilot, lambda: any(r.state == "running" for r in app.state.runs()), 30)
        await pilot.press("C")
        await wait_for(pilot, lambda: not app.control.active, 5)
        assert [r.state for r in app.state.runs()] == ["cancelled", "cancelled"]
        # the header says what the queue says: "2 cancelled", not "2 stopped" (issue 23,
        # item 8), and pausing keeps the counts at 80 columns (item 7)
        from qtui.ui.widgets.status_line import StatusLine

        await wait_for(pilot, lambda: "2 cancelled" in app.query_one(StatusLine).render().plain, 5)
        await pilot.resize_terminal(80, 24)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.query_one(StatusLine).paused, 5)
        await pilot.pause()
        header = app.query_one(StatusLine).render().plain
        assert "PAUSED" in header and "2 cancelled" in header, header


async def test_quit_mid_run_asks_then_leaves_no_child() -> None:
    app = QtuiApp(gpu=False, record_history=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="200")
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any(len(r.batch_losses) > 3 for r in app.state.runs()))
        (rec,) = app.state.runs()
        pid = int(rec.started["pid"])
        await pilot.press("q")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # changing one's mind keeps the run going
        await pilot.pause(0.2)
        assert not gone(pid)
        await pilot.press("q")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: gone(pid), 2.5)
        await wait_for(pilot, lambda: not app.is_running, 5)
    assert gone(pid)
    # the app's own fork server ended with it (the suite's shared one is not the app's)
    assert not descendants()
    assert rec.state == "cancelled"
    assert rec.batch_losses, "results gathered before the quit are kept"


async def test_watch_mode_feeds_the_same_panels(tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    log.write_text("".join(e.to_json() + "\n" for e in session_events()) + "not json\n")
    app = QtuiApp(watch_path=log, gpu=False, record_history=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.state.runs()) == 3, 10)

        def drawn() -> dict[str, list[float]]:
            return {x.name: list(x.values) for x in app.query_one("#loss-graph", LineGraph).series}

        trained = {r.run_id: list(r.batch_losses) for r in app.state.runs() if r.batch_losses}
        # panels redraw on their own ticks (ui/panel.py): waited for, not a fixed pause
        await wait_for(pilot, lambda: drawn() == trained and app.panels_drawn(), 30)
        assert not app.query(RunForm), "the form is hidden in watch mode"
        assert app.query_one("#results-table", ResultsTable).row_count == 3
        assert len(drawn()) == 2
        assert any("skipped" in n for n in app.state.notes)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Start runs" not in titles
