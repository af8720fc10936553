"""A job SLURM requeues is one run with two attempts (issue 22, item 6), on the real cluster.

``scontrol requeue`` of a running job stands in for a node failure (the
cluster's ``JobRequeue=1``): SLURM ends the job (SIGTERM), holds it pending
(``BeginTime``, two minutes here; the test lets it start 3 s later) and runs it
again from the start.  Before, the job's second attempt truncated its event
file ("r2.jsonl was truncated; reading it again from the start"), the
console said nothing of the requeue and the run's record summed both
attempts' batches.  Now each attempt is appended to the same file after its
own ``session_started``: the console and the TUI get ``REQUEUED, attempt 2``,
the figures come from the attempt that finished, and the record says how
many attempts the run took.  A run of the job that had already finished is
not run again.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import child_env, tiny
from slurm_cluster import require_real_slurm

from qtui.analysis.fold import SessionSummary
from qtui.cluster.slurm_executor import SlurmExecutor
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.core.job_words import job_line
from qtui.engine.supervisor import Supervisor

pytestmark = pytest.mark.timeout(300)

#: The slow run: 2 epochs of 8 batches, 0.3 s each.
EPOCHS, BATCHES = 2, 8


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    require_real_slurm()
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("QTUI_TEST_SLEEP", "0.3")
    yield


def _squeue(job_id: str) -> tuple[str, int]:
    out = subprocess.run(
        ["squeue", "-h", "-r", "-j", job_id, "-O", "JobArrayID:|,State:|,RestartCnt:"],
        capture_output=True, text=True, check=False, timeout=30,
    ).stdout
    for line in out.splitlines():
        parts = line.strip().split("|")
        if parts[0] == job_id and len(parts) >= 3:
            return parts[1], int(parts[2] or 0)
    return "", 0


def _lines(path: Path, kind: str) -> int:
    return path.read_text().count(f'"type":"{kind}"') if path.exists() else 0


def _requeue_when_training(log: Path, job: list[str], done: threading.Event) -> None:
    """Once the slow run has trained 3 batches: requeue its job, then let it start
    again in 3 s (SLURM holds a requeued job for ~2 min, reason BeginTime), and once
    that time has come ask for the start again: a start time that passes is seen at
    the scheduler's next periodic pass (it stayed pending 25 s more), an update at once."""
    deadline = time.monotonic() + 200
    while _lines(log, "batch") < 3:
        assert time.monotonic() < deadline, "the slow run never trained"
        time.sleep(0.1)
    subprocess.run(["scontrol", "requeue", job[0]], check=True, timeout=30)
    while _squeue(job[0]) != ("PENDING", 1):
        assert time.monotonic() < deadline, _squeue(job[0])
        time.sleep(0.2)
    # not "now": slurmd refuses a start in the second its credential was revoked in
    # ("Killing non-startable batch job: Job credential revoked"), and the job FAILs
    subprocess.run(["scontrol", "update", f"JobId={job[0]}", "StartTime=now+3"], check=True,
                   timeout=30)
    startable = time.monotonic() + 3.5  # the start time SLURM was just given, with a margin
    while _squeue(job[0])[0] == "PENDING" and time.monotonic() < startable:
        time.sleep(0.2)
    if _squeue(job[0])[0] == "PENDING":
        subprocess.run(["scontrol", "update", f"JobId={job[0]}", "StartTime=now"], check=True,
                       timeout=30)
    done.set()


@pytest.mark.cluster_alone
def test_a_requeued_job_is_one_run_with_two_attempts(tmp_path: Path) -> None:
    specs = [
        RunSpec("default.qubit", "backprop", tiny(), run_id="r1"),
        RunSpec("default.qubit", "backprop",
                tiny(workload="workloads.faulty:slow", epochs=EPOCHS, samples=40), run_id="r2"),
    ]
    opts = SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path / "jobs"), time_limit_min=5,
                        exclusive=False, runs_per_job=2)
    executor = SlurmExecutor(opts, poll_s=0.5)
    events: list[ev.Event] = []
    job: list[str] = []
    requeued = threading.Event()

    def on_event(e: ev.Event) -> None:
        events.append(e)
        if isinstance(e, ev.JobState) and not job:
            job.append(e.job_id)
            log = executor.folder / "events" / "r2.jsonl"  # type: ignore[operator]
            threading.Thread(target=_requeue_when_training, args=(log, job, requeued),
                             daemon=True).start()

    sup = Supervisor(specs, on_event, executor=executor)
    try:
        sup.run()
    finally:
        executor.close()
    assert requeued.is_set()

    # the console's and the TUI's words for it: REQUEUED, with the attempt
    states = [e for e in events if isinstance(e, ev.JobState) and e.run_id == "r2"]
    said = [job_line(e.to_dict()) for e in states]
    assert any(e.state == "REQUEUED" and e.attempt == 2 for e in states), said
    assert f"job {job[0]} REQUEUED, attempt 2" in said, said
    assert not [e for e in events if isinstance(e, ev.LogNote) and "truncated" in e.message]

    ends = {e.run_id: e for e in events if e.type in ev.TERMINAL_TYPES}  # type: ignore[attr-defined]
    assert isinstance(ends["r1"], ev.RunFinished) and isinstance(ends["r2"], ev.RunFinished), ends
    # one event file per run, each attempt appended after its own session_started;
    # r1 had finished in the first attempt and was not run again
    folder = executor.folder
    assert folder is not None
    assert _lines(folder / "events" / "r2.jsonl", "session_started") == 2
    assert _lines(folder / "events" / "r1.jsonl", "session_started") == 1
    assert _lines(folder / "events" / "r1.jsonl", "run_started") == 1

    # the figures are the finished attempt's, live and replayed from the session's events
    for replay in (False, True):
        summary = SessionSummary()
        for e in events:
            summary.apply(ev.decode(ev.encoded(e))[0] if replay else e)  # type: ignore[arg-type]
        r2 = summary.runs["r2"]
        assert len(r2.batch_losses) == EPOCHS * BATCHES, len(r2.batch_losses)
        assert r2.epoch_losses == list(ends["r2"].epoch_losses)  # type: ignore[attr-defined]
        run = r2.to_run()
        assert run.attempts == 2 and run.state == "finished" and run.job_state == "COMPLETED"
        r1 = summary.runs["r1"].to_run()
        assert r1.attempts == 1 and r1.state == "finished"
