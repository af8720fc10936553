"""The training loop, measured through the real supervisor and a real child.

The forum's numbers must come out of the default workload exactly: per-epoch
mean losses 0.5108 0.4007 0.2492 0.2128 0.1894 0.1919 and 88 % accuracy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_helpers import child_env, run_session, tiny
from warm_executor import assert_no_runs_left

from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.forkserver import ProcessExecutor

FORUM_LOSSES = [0.5108, 0.4007, 0.2492, 0.2128, 0.1894, 0.1919]
CAST_MESSAGE = "Casting complex values to real discards the imaginary part"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor) -> Iterator[None]:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_runs_left(warm_executor)


def test_default_workload_reproduces_the_forum_numbers(warm_executor: ProcessExecutor) -> None:
    spec = RunSpec("default.qubit", "backprop", WorkloadParams())
    sup, rec = run_session([spec], executor=warm_executor)
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished), fin
    assert [round(x, 4) for x in fin.epoch_losses] == FORUM_LOSSES
    assert fin.accuracy == pytest.approx(0.88)
    assert fin.final_loss == pytest.approx(0.1919, abs=5e-5)
    assert fin.steps == 6 * 40
    # the per-epoch events say the same as the final one
    assert [round(e.mean_loss, 4) for e in rec.of("epoch", run_id)] == FORUM_LOSSES
    batches = rec.of("batch", run_id)
    assert len(batches) == 240 and batches[-1].step == 240
    assert fin.train_s > 0 and fin.core_s > 0
    assert fin.core_s_per_step == pytest.approx(fin.core_s / 240)
    assert fin.peak_rss > 100 * 2**20  # torch + pennylane, the OS's figure
    started = rec.of("run_started", run_id)[0]
    assert started.split_batch is False and started.batches_per_epoch == 40
    # Who spent the step: the phases add up to the measured window, to the rounding.
    assert set(fin.phases) == {"forward_nn", "forward_pennylane", "forward_device", "backward_nn",
                               "backward_pennylane", "backward_device", "other"}
    assert sum(fin.phases.values()) == pytest.approx(fin.train_s, rel=1e-9)
    assert all(v > 0 for k, v in fin.phases.items() if k != "backward_pennylane")


def test_parameter_shift_splits_the_batch_and_gives_the_same_gradient(
    warm_executor: ProcessExecutor
) -> None:
    # One full-size epoch: the forum's epoch-1 loss, with an exact but split gradient.
    spec = RunSpec("default.qubit", "parameter-shift", WorkloadParams(epochs=1))
    sup, rec = run_session([spec], executor=warm_executor)
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished), fin
    started = rec.of("run_started", run_id)[0]
    assert started.split_batch is True
    assert started.resolved_diff_method == "parameter-shift"
    assert round(fin.epoch_losses[0], 4) == FORUM_LOSSES[0]


def test_complex_to_real_cast_warnings_are_all_counted(warm_executor: ProcessExecutor) -> None:
    params = tiny(workload="workloads.complex_cast:build")  # 4 steps
    sup, rec = run_session([RunSpec("default.qubit", "backprop", params)], executor=warm_executor)
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished), fin
    casts = [w for w in rec.of("warning", run_id) if CAST_MESSAGE in w.message]
    assert casts, [w.message for w in rec.of("warning", run_id)]
    latest = casts[-1]  # the latest event per key carries the running count
    assert {w.key for w in casts} == {latest.key}
    expected = 4 + 1  # one cast per forward: 4 training steps + the evaluation pass
    assert latest.count == expected > 1
    assert latest.category == "UserWarning"
    assert latest.first_t <= latest.last_t
    assert fin.warnings >= expected
