"""Folding events into run records: the states a run goes through."""

from __future__ import annotations

from qtui.analysis.fold import SessionSummary
from qtui.core import events as ev


def test_a_launched_run_is_running_before_it_has_started_training() -> None:
    s = SessionSummary()
    s.apply(ev.RunQueued(run_id="r1", spec={"device": "default.qubit", "diff_method": "backprop"}))
    assert s.runs["r1"].state == "queued"
    s.apply(ev.RunLaunched(run_id="r1", pid=123))
    rec = s.runs["r1"]
    assert rec.state == "running" and not rec.started
    s.apply(ev.RunCrashed(run_id="r1", signal="SIGKILL", exit_code=None))
    assert s.runs["r1"].state == "crashed"
    # a late launch note never revives a finished run
    s.apply(ev.RunLaunched(run_id="r1", pid=123))
    assert s.runs["r1"].state == "crashed"


# --- the central fold: what every view (TUI, exports, history, watch) reads --------------

SPEC = {"run_id": "r1", "device": "default.qubit", "diff_method": "backprop",
        "repeat_index": 0, "params": {"epochs": 2, "qubits": 2}}


def _finished(run_id: str, train_s: float, loss: float = 0.2, **extra: object) -> ev.RunFinished:
    return ev.RunFinished(
        run_id=run_id, accuracy=0.9, train_s=train_s, final_loss=loss, epoch_losses=[0.5, loss],
        steps=8, core_s=train_s * 1.5, cores_in_use=1.5, core_s_per_step=train_s * 1.5 / 8,
        peak_rss=100 * 2**20, peak_threads=4, phases={}, warnings=[], threadpools=[], **extra,
    )


def test_batches_epochs_and_warnings_fold_into_the_run() -> None:
    s = SessionSummary()
    s.apply(ev.RunQueued(run_id="r1", spec=SPEC))
    s.apply(ev.Batch(run_id="r1", epoch=1, batch=1, loss=0.9, step=1, elapsed_s=0.1))
    s.apply(ev.Batch(run_id="r1", epoch=1, batch=2, loss=0.7, step=2, elapsed_s=0.2))
    s.apply(ev.Epoch(run_id="r1", epoch=1, mean_loss=0.8, elapsed_s=0.2))
    s.apply(ev.Epoch(run_id="r1", epoch=1, mean_loss=0.75, elapsed_s=0.2))  # a correction
    w = {"category": "UserWarning", "message": "m", "filename": "f.py", "lineno": 3}
    s.apply(ev.WarningSeen(run_id="r1", count=1, first_t=1.0, last_t=1.0, **w))  # type: ignore[arg-type]
    s.apply(ev.WarningSeen(run_id="r1", count=5, first_t=1.0, last_t=2.0, **w))  # type: ignore[arg-type]
    rec = s.runs["r1"]
    assert rec.state == "running"  # a batch means it trains, whatever was missed before
    assert list(rec.batch_losses) == [0.9, 0.7] and rec.last_loss == 0.7
    assert (rec.epoch, rec.batch, rec.step) == (1, 2, 2)
    assert rec.epoch_losses == [0.75]
    assert rec.warning_count == 5  # running counts replace, never add up


def test_run_finished_gives_the_result_and_the_combination_its_statistics() -> None:
    s = SessionSummary()
    for rid, rep, train_s in (("r1", 0, 2.0), ("r2", 1, 4.0)):
        s.apply(ev.RunQueued(run_id=rid, spec={**SPEC, "run_id": rid, "repeat_index": rep}))
        s.apply(_finished(rid, train_s))
    s.apply(ev.RunQueued(run_id="r3", spec={**SPEC, "run_id": "r3", "diff_method": "adjoint"}))
    s.apply(ev.RunFailed(run_id="r3", exc_type="ValueError", message="bad", traceback="tb"))
    s.apply(ev.SessionFinished(session_id="s"))
    assert s.finished and s.runs["r1"].state == "finished" and s.runs["r3"].state == "failed"
    assert s.runs["r3"].error["exc_type"] == "ValueError" and s.runs["r3"].error["state"] == "failed"
    backprop, adjoint = s.combos()
    assert backprop.combo == "default.qubit+backprop"
    assert backprop.mean == 3.0 and backprop.times == [2.0, 4.0]
    assert backprop.stddev is not None and abs(backprop.stddev - 2 ** 0.5) < 1e-12
    assert backprop.relative == 1.0 and backprop.final_loss == 0.2
    assert backprop.resources.peak_rss_bytes == 100 * 2**20
    assert backprop.resources.core_s == 4.5
    assert adjoint.mean is None and adjoint.relative is None
    assert adjoint.errors[0].exc_type == "ValueError" and adjoint.errors[0].run_id == "r3"


def test_refusals_and_notes_are_kept_once() -> None:
    s = SessionSummary()
    for _ in range(2):
        s.apply(ev.RunRefused(device="lightning.qubit", diff_method="backprop", reason="no"))
    s.apply(ev.LogNote(message="skipped 1 line"))
    assert s.refused == [{"device": "lightning.qubit", "diff_method": "backprop", "reason": "no"}]
    assert s.notes == ["skipped 1 line"] and s.runs == {}


def test_a_run_cancelled_before_it_started_keeps_its_reason() -> None:
    s = SessionSummary()
    s.apply(ev.RunQueued(run_id="r1", spec=SPEC))
    s.apply(ev.RunCancelled(run_id="r1", reason="cancelled before it started"))
    rec = s.runs["r1"]
    assert rec.state == "cancelled" and rec.error["reason"] == "cancelled before it started"
    assert rec.t_start is None and s.combos()[0].mean is None
