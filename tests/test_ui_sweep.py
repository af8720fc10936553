"""The sweep form, the sweep chart, the phases, thread-pool and recommendation panels.

The form tests use an injected probe answer and start nothing; the last test
runs a tiny real sweep (default.qubit, backprop + adjoint, 1 and 2 qubits,
2 measured steps after 1 warm-up step, 20 samples) through the app's normal
supervisor path and checks what reaches the screen.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_ui_data import fixed_caps, sweep_events
from test_ui_form import errors_text, form_ready, make_app
from test_ui_run import wait_for, wait_for_caps
from textual.widgets import Button, Input, Static

from qtui.core import units
from qtui.engine.forkserver import ProcessExecutor
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.combo_grid import ComboGrid
from qtui.ui.widgets.graph import LineGraph
from qtui.ui.widgets.phases_panel import ADJOINT_CAPTION, PhasesPanel
from qtui.ui.widgets.recommend_panel import RecommendationPanel
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_form import RunForm
from qtui.ui.widgets.sweep_panel import SweepPanel
from qtui.ui.widgets.threadpools_panel import ThreadPoolsPanel

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _workloads_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))


def note(app: QtuiApp) -> str:
    return str(app.query_one("#start-note", Static).render())


async def test_w_switches_the_form_to_a_sweep_and_back() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await form_ready(pilot, app)
        form = app.query_one(RunForm)
        assert not app.query_one("#field-sweep_qubits", Input).display
        await pilot.press("w")
        await pilot.pause()
        assert form.sweep
        assert app.query_one("#field-sweep_qubits", Input).display
        assert not app.query_one("#field-epochs", Input).display
        assert str(app.query_one("#start", Button).label) == "Start sweep"
        assert "3 runs (1 comb. × 3 points)" in note(app)  # the default 2,4,8 qubits
        await pilot.press("w")
        await pilot.pause()
        assert not form.sweep and app.query_one("#field-epochs", Input).display
        assert "1 run —" in note(app)
        assert "Sweep form / single runs" in {c.title for c in app.get_system_commands(app.screen)}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [  # the same words as `qtui sweep` (tests/test_sweep_cli.py)
        ("sweep_qubits", "0,2", "qubits: must be at least 1, got 0"),
        ("sweep_qubits", "two", "qubits: must be a whole number, got 'two'"),
        ("sweep_qubits", " , ", "qubits: item 1 of ',' is empty; separate values with single commas"),
        ("steps", "0", "steps: must be at least 1, got 0"),
        ("warmup", "-1", "warmup: must be at least 0, got -1"),
        ("sweep_threads", "1,-2", "threads: must be at least 1, got -2"),
        ("sweep_layers", "1,x", "layers: must be a whole number, got 'x'"),
        (
            "sweep_batch_size",
            "5,500",
            "batch-size: must not exceed the sample count (200), got 500",
        ),
    ],
)
async def test_sweep_fields_use_the_cli_messages(field: str, value: str, message: str) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        app.query_one(RunForm).set_mode(True)
        box = app.query_one(f"#field-{field}", Input)
        box.value = value
        await pilot.pause()
        assert message in errors_text(app)
        assert box.has_class("-invalid")
        assert app.query_one("#start", Button).disabled
        assert "fix 1 field" in note(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.state.summary.runs == {}


async def test_sweep_specs_come_from_qtui_sweep_expand() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        form = app.query_one(RunForm)
        form.set_mode(True)
        app.query_one(ComboGrid).select("lightning.qubit", "adjoint")
        values = {"sweep_qubits": "4, 1,2", "sweep_threads": "1", "steps": "2", "warmup": "1",
                  "samples": "20", "repeat": "2"}
        for key, value in values.items():
            app.query_one(f"#field-{key}", Input).value = value
        await pilot.pause()
        assert errors_text(app) == ""
        assert "12 runs (2 comb. × 3 points × 2 rep.)" in note(app)
        specs, interval, _ = form.build_specs()
        assert len(specs) == 12 and interval == 0.1
        # devices × methods innermost, repeats outermost, as `qtui sweep`
        assert [(s.combo, s.params.qubits) for s in specs[:4]] == [
            ("default.qubit+backprop", 1),
            ("lightning.qubit+adjoint", 1),
            ("default.qubit+backprop", 2),
            ("lightning.qubit+adjoint", 2),
        ]
        p = specs[0].params
        assert (p.steps, p.warmup, p.epochs, p.threads, p.samples) == (2, 1, 1, 1, 20)
        assert {s.repeat_index for s in specs} == {0, 1}


async def test_sweep_tab_chart_legend_and_crossovers() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=sweep_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, app.panels_drawn, 10)
        await pilot.press("7")
        await pilot.pause(0.3)
        panel = app.query_one(SweepPanel)
        assert panel.axis == "qubits"
        wall = app.query_one("#graph-time_per_step", LineGraph)
        # the measured sizes (the predicted ones may follow: test_ui_sweep_predicted.py)
        assert (wall.x_ticks or [])[:4] == ["2", "4", "6", "8"]
        measured = [s for s in wall.series if not s.dashed]
        assert len(measured) == 3 and all(len(s.values) == len(wall.x_ticks or []) for s in measured)
        crossings = str(app.query_one("#sweep-crossovers", Static).render())
        # single runs: too few to tell, so no crossover is claimed (qtui.analysis.stats)
        assert ("default.qubit+backprop and lightning.qubit+adjoint cannot be told apart; too few"
                " runs to tell (n=1)") in crossings.replace("\n", " ")
        # the models' answer beyond the measured sizes, marked predicted (issue 25)
        predicted = ""
        for _ in range(600):
            predicted = str(app.query_one("#sweep-predicted", Static).render())
            if "Predicted at" in predicted:
                break
            await pilot.pause(0.05)
        assert predicted.startswith("Predicted at 10 and 12 qubits (not measured"), predicted
        assert "• default.qubit+backprop at 12: " in predicted
        legend = str(app.query_one("#sweep-legend", Static).render())
        assert f"lightning.qubit+adjoint (up to {units.cores(3.8)} cores!)" in legend
        # results: labels tell the points apart, cores > 1.5 are marked
        table = app.query_one(ResultsTable)
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert labels[0] == "qubits=2"  # each point's header row (qtui.core.workload_groups)
        assert "default.qubit+backprop (qubits=2)" in labels[1]
        col = [str(c.label) for c in table.ordered_columns].index("Cores in use")
        cores = [str(table.get_row_at(i)[col]) for i in range(table.row_count)]
        assert any(c.endswith(" !") for c in cores)
        rec = app.query_one(RecommendationPanel)
        assert any(line.startswith("At qubits=8: Fastest: ") for line in rec.lines)
        assert f"keeps {units.cores(3.8)} cores busy" in str(rec.render())
        # phases: the adjoint caption, one comparison row per combination
        phases = app.query_one(PhasesPanel)
        assert len(phases.rows) == 12
        assert ADJOINT_CAPTION in str(phases.render())


@pytest.mark.timeout(300)
async def test_tiny_real_sweep_reaches_chart_recommendation_and_phases(
    warm_executor: ProcessExecutor,
) -> None:
    # torch may already be loaded by other tests of the session (thread mode):
    # check the UI adds none (tests/test_import_boundaries.py checks a clean process).
    heavy_before = {m for m in ("torch", "pennylane") if m in sys.modules}
    app = QtuiApp(gpu=False, record_history=False, executor=warm_executor)  # the real probe
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        await pilot.press("w")
        await pilot.pause()
        app.query_one(ComboGrid).select("default.qubit", "adjoint")
        values = {"sweep_qubits": "1,2", "steps": "2", "warmup": "1", "samples": "20",
                  "sweep_threads": "1"}
        for key, value in values.items():
            app.query_one(f"#field-{key}", Input).value = value
        await pilot.pause()
        assert "4 runs (2 comb. × 2 points)" in note(app), errors_text(app)
        app.set_focus(None)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(app.state.runs()) == 4, 10)
        # live: the thread-pool line and the phases panel follow the running run
        await wait_for(pilot, lambda: any(r.phases for r in app.state.runs()), 120)
        await wait_for(
            pilot,
            lambda: all(r.state not in ("queued", "running") for r in app.state.runs())
            and not app.control.active,
            240,
        )
        await pilot.pause(0.5)
        assert [r.state for r in app.state.runs()] == ["finished"] * 4

        await pilot.press("7")
        await pilot.pause(0.3)
        wall = app.query_one("#graph-time_per_step", LineGraph)
        assert wall.x_ticks == ["1", "2"]
        assert {s.name for s in wall.series} == {"default.qubit+backprop", "default.qubit+adjoint"}
        crossings = str(app.query_one("#sweep-crossovers", Static).render())
        assert "default.qubit+backprop" in crossings and "default.qubit+adjoint" in crossings

        rec = app.query_one(RecommendationPanel)
        assert any(line.startswith("At qubits=1: Fastest: ") for line in rec.lines)
        assert any(line.startswith("At qubits=2: Cheapest") for line in rec.lines)

        phases = app.query_one(PhasesPanel)
        assert sum(phases.seconds.values()) > 0 and phases.steps == 2
        assert len(phases.rows) == 4
        for row in phases.rows:
            assert row.seconds["forward_device"] > 0 and row.seconds["backward_nn"] > 0

        pools = app.query_one(ThreadPoolsPanel)
        omp = [p for p in pools.pools if p.get("user_api") == "openmp"]
        assert omp and all(p["num_threads"] == 1 for p in omp)
        assert "peak" in str(pools.render())
    assert {m for m in ("torch", "pennylane") if m in sys.modules} == heavy_before
