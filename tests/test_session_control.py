"""The session controller (``qtui.session.control``), shared by the TUI and ``qtui run``:
real children through a real supervisor, no Textual.

Covers what the TUI relied on its own code for before: numbering across
batches, a batch started during a session waiting for it (announced queued at
once), cancelling a waiting run without starting it, cancelling a running one
(its child gone within 2 s), cancel-all dropping waiting batches, and what a
finished session leaves (``error``, ``on_finished``).
"""

from __future__ import annotations

import time
from typing import Any

import psutil
import pytest
from engine_helpers import Recorder, assert_no_children, child_env, tiny
from warm_executor import assert_no_runs_left

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.session.control import SessionController, Submission

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def _child_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])


def controller(rec: Recorder, **kwargs: Any) -> tuple[SessionController, list[Any], list[Any]]:
    launched: list[Submission] = []
    finished: list[BaseException | None] = []
    control = SessionController(
        rec,
        on_launch=launched.append,
        on_finished=finished.append,
        supervisor_options={"machine": {"hostname": "test"}},
        **kwargs,
    )
    return control, launched, finished


def spec(**params: Any) -> RunSpec:
    return RunSpec("default.qubit", "backprop", tiny(**params))


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_two_batches_run_one_after_the_other_with_ids_counted_on() -> None:
    rec = Recorder()
    control, launched, finished = controller(rec)
    first = control.start([spec()], interval=0.05)
    second = control.start([spec(), spec()], interval=0.2)
    assert not first.queued and second.queued
    assert [s.run_id for s in first.specs + second.specs] == ["r1", "r2", "r3"]
    # the waiting runs are shown as queued at once, before their session starts
    assert {e.run_id for e in rec.of("run_queued")} >= {"r2", "r3"}
    assert control.busy and control.pending
    assert control.wait(180), "the sessions did not end"
    assert control.error is None and finished == [None]
    assert [[s.run_id for s in b.specs] for b in launched] == [["r1"], ["r2", "r3"]]
    assert [b.interval for b in launched] == [0.05, 0.2]
    assert len(rec.of("session_started")) == 2
    for rid in ("r1", "r2", "r3"):
        assert rec.terminal(rid).type == "run_finished"
    assert not control.active and not control.pending
    assert_no_children()


def test_cancel_a_waiting_run_then_the_running_one(warm_executor: ProcessExecutor) -> None:
    rec = Recorder()
    control, launched, _ = controller(rec, executor=warm_executor)
    control.start([spec(epochs=200)])
    waiting = control.start([spec()]).specs[0].run_id
    assert control.cancel(waiting) == "dropped"
    (dropped,) = [e for e in rec.of("run_cancelled") if e.run_id == waiting]
    assert dropped.reason == "cancelled before it started"
    assert not control.pending

    rec.wait_for("batch", "r1")
    pid = int(rec.wait_for("run_launched", "r1").pid)
    assert control.cancel("r1") == "asked"
    deadline = time.monotonic() + 60  # the outcome, not the speed: benchmarks/cancel_latency.py
    while not gone(pid):
        assert time.monotonic() < deadline, "the child outlived the cancel by 60 s"
        time.sleep(0.05)
    assert control.wait(30)
    assert rec.terminal("r1").type == "run_cancelled"
    assert len(launched) == 1, "the dropped run's batch never started"
    assert control.cancel("r1") is None  # nothing active to ask
    assert_no_runs_left(warm_executor)


def test_cancel_all_stops_the_session_and_drops_waiting_batches(
    warm_executor: ProcessExecutor,
) -> None:
    rec = Recorder()
    control, launched, finished = controller(rec, executor=warm_executor)
    control.start([spec(epochs=200), spec(epochs=200)])
    later = control.start([spec()]).specs
    rec.wait_for("batch", "r1")
    assert control.cancel_all() is True
    assert control.wait(30)
    assert [rec.terminal(r).type for r in ("r1", "r2")] == ["run_cancelled", "run_cancelled"]
    (skipped,) = [e for e in rec.of("run_cancelled") if e.run_id == later[0].run_id]
    assert skipped.reason == "not started: cancelled"
    assert len(launched) == 1 and finished == [None]
    assert control.interrupted
    assert_no_runs_left(warm_executor)


def test_an_executor_given_to_the_controller_is_used_and_left_open(
    warm_executor: ProcessExecutor,
) -> None:
    """``executor=``: the caller's (a test suite's warm server) serves every submission
    and outlives the idle controller and its stop(); one the controller made does not
    (``test_two_batches_...`` above: nothing is left once it is idle)."""
    server = warm_executor.server_pid
    rec = Recorder()
    control, _, finished = controller(rec, executor=warm_executor)
    control.start([spec()])
    assert control.wait(180) and finished == [None]
    assert rec.terminal("r1").type == "run_finished"
    assert rec.wait_for("run_started", "r1").import_s < 0.5  # forked from the warm server
    assert control.stop(10)
    assert warm_executor.server_pid == server  # still running, the same one
    assert_no_runs_left(warm_executor)


def test_a_supervisor_that_raises_is_reported_not_lost() -> None:
    rec = Recorder()
    control, _, finished = controller(rec, isolation="no-such-executor")
    started = control.start([spec()])
    assert started.specs and control.wait(30)
    assert isinstance(control.error, ValueError)
    assert finished == [control.error]
    assert not control.active


def test_follow_feeds_a_log_until_stopped(tmp_path: Any) -> None:
    log = tmp_path / "s.jsonl"
    log.write_text(ev.RunQueued(run_id="x", spec={}).to_json() + "\n")
    rec = Recorder()
    control, _, _ = controller(rec)
    done: list[str | None] = []
    control.follow(log, done.append)
    rec.wait_for("run_queued", "x", timeout=10)
    assert control.stop(5) and done == [None]


def test_prewarm_starts_the_fork_server_before_the_first_run_and_stop_ends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 24: the app's first ctrl+r waited 4-10 s for the server's imports. With
    ``prewarm`` the server is up before any run is asked for; the first run is forked
    from it (its imports ~0) and gets the server's start note; stop() ends it."""
    import qtui.session.control as control_module

    monkeypatch.setattr(control_module, "PREWARM_AFTER_S", 0.0)
    rec = Recorder()
    control, _, _ = controller(rec, keep_warm=True, prewarm=True)
    try:
        deadline = time.monotonic() + 120
        while not (control._executor is not None and control._executor.server_pid):
            assert time.monotonic() < deadline, "the fork server did not start"
            time.sleep(0.05)
        server = control._executor.server_pid
        control.start([spec()])
        assert control.wait(120)
        started = [e for e in rec.events if isinstance(e, ev.RunStarted)]
        assert len(started) == 1 and started[0].import_s < 0.5  # forked from the warm server
        assert any(isinstance(e, ev.LogNote) and "fork server started" in e.message
                   for e in rec.events)
        assert control._executor.server_pid == server  # the same server, not a second one
    finally:
        assert control.stop()
    assert gone(server)


def test_a_quit_before_the_prewarm_fires_starts_nothing() -> None:
    rec = Recorder()
    control, _, _ = controller(rec, keep_warm=True, prewarm=True)  # fires after 1 s
    assert control.stop()
    assert control._executor is None  # stop() cancelled the timer: no server was started
