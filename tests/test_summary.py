"""Folding events into run records: the states a run goes through."""

from __future__ import annotations

from qtui import events as ev
from qtui.summary import SessionSummary


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
