"""The optional fields of the workload interface, each run end to end (tests/workloads/rich.py).

Real PennyLane + torch in real children, through the supervisor; the tiny
workloads run a few batches of a 2-qubit circuit each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import child_env, run_session
from warm_executor import assert_no_runs_left

from qtui.analysis.fold import SessionSummary
from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.forkserver import ProcessExecutor


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor) -> Iterator[None]:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_runs_left(warm_executor)


def run(
    warm_executor: ProcessExecutor, name: str, method: str = "backprop", **params: Any
) -> tuple[str, Any]:
    values = {"epochs": 2, "lr": 0.05, "workload": f"workloads.rich:{name}", **params}
    spec = RunSpec("default.qubit", method, WorkloadParams(**values))
    sup, rec = run_session([spec], executor=warm_executor)
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished), fin
    return run_id, rec


def test_lbfgs_through_train_step_runs_and_reports_only_what_it_can_split(
    warm_executor: ProcessExecutor
) -> None:
    run_id, rec = run(warm_executor, "lbfgs")
    fin = rec.terminal(run_id)
    assert fin.steps == 8 and len(fin.epoch_losses) == 2
    assert all(math.isfinite(x) for x in fin.epoch_losses)
    # A custom step: one span, split by who spent it, and the rest of the window.
    assert set(fin.phases) == {"step_nn", "step_pennylane", "step_device", "other"}
    assert fin.phases["step_device"] > 0 and fin.phases["step_pennylane"] > 0
    assert sum(fin.phases.values()) == pytest.approx(fin.train_s, rel=1e-9)
    assert fin.quantum.executions_per_step > 1  # LBFGS evaluates its closure several times
    from qtui.core.summary_schema import Result, Summary
    from qtui.report.phase_table import phases_table

    headers, rows, _ = phases_table(Summary(results=[
        Result(label="x", phases=dict(fin.phases), steps=fin.steps),
    ]))
    assert headers[1:] == ["Step nn", "Step PennyLane", "Step device", "Other"]
    assert len(rows[0]) == len(headers)


def test_two_optimisers_with_clipping(warm_executor: ProcessExecutor) -> None:
    """Each of the 8 steps: both optimisers moved their own parameters, and clipping
    brought a gradient norm above ``max_norm`` down to it (counted in the child)."""
    run_id, rec = run(warm_executor, "two_optimisers_clipped")
    fin = rec.terminal(run_id)
    assert fin.steps == 8
    counts = {name: m.value for name, m in fin.metrics.items()}
    assert counts == {"classical_steps": 8.0, "quantum_steps": 8.0, "clipped_steps": 8.0}
    assert "forward_device" not in fin.phases


@pytest.mark.parametrize(("when", "lr"), [("epoch", 0.05 * 0.25), ("step", 0.05 * 0.5**8)])
def test_scheduler_steps_per_epoch_or_per_step(
    monkeypatch: pytest.MonkeyPatch, when: str, lr: float, warm_executor: ProcessExecutor
) -> None:
    monkeypatch.setenv("QTUI_TEST_SCHEDULER_STEP", when)
    run_id, rec = run(warm_executor, "scheduled")
    fin = rec.terminal(run_id)
    assert fin.metrics["lr"].value == pytest.approx(lr)
    assert fin.metrics["lr"].higher_is_better is False
    assert fin.accuracy is None  # no accuracy among the metrics


@pytest.mark.parametrize("name", ["two_inputs", "unpacked"])
def test_dict_batches_and_two_inputs(name: str, warm_executor: ProcessExecutor) -> None:
    run_id, rec = run(warm_executor, name)
    fin = rec.terminal(run_id)
    assert fin.steps == 8
    # The built-in step still splits forward from backward.
    assert fin.phases["forward_device"] > 0 and fin.phases["backward_nn"] > 0


def test_regression_metrics_validation_and_params_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    warm_executor: ProcessExecutor,
) -> None:
    run_id, rec = run(warm_executor, "regression", epochs=3, qubits=5, layers=3)
    fin = rec.terminal(run_id)
    assert set(fin.metrics) == {"mse", "r2"}
    assert fin.metrics["mse"].higher_is_better is False and fin.metrics["r2"].higher_is_better
    assert fin.accuracy is None
    vals = rec.of("validation", run_id)
    assert [v.epoch for v in vals] == [1, 2, 3]
    assert fin.validation_losses == [v.loss for v in vals]
    started = rec.of("run_started", run_id)[0]
    assert started.params_used == ["epochs", "lr"]
    # The summary: metrics by name, validation losses, and no unused parameters.
    s = SessionSummary()
    for e in rec.events:
        s.apply(e)
    (result,) = s.combos()
    assert "qubits" not in result.parameters and "layers" not in result.parameters
    assert result.parameters["epochs"] == 3 and result.parameters["lr"] == 0.05
    assert result.metrics["mse"].higher_is_better is False
    assert result.metrics["mse"].value == pytest.approx(fin.metrics["mse"].value)
    assert result.validation_losses == [fin.validation_losses]
    # Every view names the metrics: the results model, the CSV, Markdown; no Acc. column.
    from qtui.analysis.summary_builder import document
    from qtui.report import results as results_model
    from qtui.report.export.csv_export import rows as csv_rows
    from qtui.report.export.markdown_export import MarkdownExporter

    doc = document(s)
    model = results_model.build(doc)
    keys = [c.key for c in model.columns]
    assert "metric:mse" in keys and "metric:r2" in keys and "accuracy" not in keys
    mse_col = next(c for c in model.columns if c.key == "metric:mse")
    assert mse_col.title == "mse" and mse_col.better == "low"
    columns, data = csv_rows(doc)
    assert {"metric_mse", "metric_mse_higher_is_better", "metric_r2", "validation_loss"} <= set(columns)
    assert "parameter_qubits" not in columns and "parameter_lr" in columns
    assert data[0]["metric_mse"] == pytest.approx(fin.metrics["mse"].value)
    assert data[0]["metric_mse_higher_is_better"] is False
    assert data[0]["validation_loss"] == pytest.approx(fin.validation_losses[-1])
    md = MarkdownExporter().render(doc)
    assert "mse" in md and "r2" in md and "qubits" not in md
    assert doc.runs[0].parameters.get("qubits") is None
    # ... and history: `qtui history SESSION` names the metric with the model's text.
    from qtui.cli.main import main
    from qtui.store.history_db import HistoryDB

    metric_text = model.rows[0].cells["metric:mse"].text  # one run: its value is the mean
    db_path = tmp_path / "h.sqlite3"
    with HistoryDB(db_path) as db:
        for e in rec.events:
            db.record(e)
    monkeypatch.setenv("COLUMNS", "200")
    sid = str(rec.events[0].session_id)  # type: ignore[attr-defined]
    assert main(["history", "--db", str(db_path), sid]) == 0
    out = capsys.readouterr().out
    assert f"mse {metric_text}" in out


def test_device_and_qnode_options_reach_pennylane(warm_executor: ProcessExecutor) -> None:
    run_id, rec = run(warm_executor, "device_options", method="parameter-shift")
    fin = rec.terminal(run_id)
    assert {d.shots for d in fin.quantum.devices} == {100}


def test_check_catches_lbfgs_without_train_step_with_the_users_parameters() -> None:
    from qtui.engine.workload_check import build_once

    params = {"epochs": 3, "lr": 0.2, "qubits": 4}
    bad = build_once("workloads.rich:lbfgs_without_step", "default.qubit", "backprop", params)
    assert bad["ok"] is False
    assert "LBFGS.step needs a closure" in bad["error"] and "train_step" in bad["error"]
    assert "\n" not in bad["error"]
    good = build_once("workloads.rich:lbfgs", "default.qubit", "backprop", params)
    assert good["ok"] is True, good


def test_old_run_finished_without_metrics_still_decodes() -> None:
    line = (
        b'{"type":"run_finished","run_id":"r","accuracy":0.5,"train_s":1.0,"final_loss":0.1,'
        b'"epoch_losses":[0.1],"steps":1,"core_s":1.0,"cores_in_use":1.0,"core_s_per_step":1.0,'
        b'"peak_rss":1,"peak_threads":1,"t":1.0,"v":1}'
    )
    event, err = ev.decode(line)
    assert err is None and isinstance(event, ev.RunFinished)
    assert event.metrics == {} and event.validation_losses == []




def test_validation_losses_reach_the_live_state_and_the_loss_chart() -> None:
    from qtui.ui.state import LiveState
    from qtui.ui.widgets.loss_panel import validation_series

    state = LiveState()
    spec = {"run_id": "r", "device": "default.qubit", "diff_method": "backprop", "params": {}}
    state.apply(ev.RunStarted(run_id="r", spec=spec, pid=1, host="h", versions={}, batches_per_epoch=2))
    for step in (1, 2, 3, 4):
        state.apply(ev.Batch(run_id="r", epoch=(step + 1) // 2, batch=2 - step % 2, loss=1.0 / step,
                             step=step, elapsed_s=0.1 * step))
        if step % 2 == 0:
            state.apply(ev.Epoch(run_id="r", epoch=step // 2, mean_loss=0.5, elapsed_s=0.1))
            state.apply(ev.Validation(run_id="r", epoch=step // 2, loss=0.6 / step))
    rec = state.summary.runs["r"]
    assert rec.validation_losses == [0.3, 0.15]
    assert validation_series(rec, "epoch") == [0.3, 0.15]
    assert validation_series(rec, "batch") == [0.3, 0.3, 0.15, 0.15]  # held over each epoch
