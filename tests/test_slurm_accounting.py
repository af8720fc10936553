"""What SLURM says about each job, recorded (issue 22, items 4c, 7c and 8), on the real cluster.

Each SLURM run records its queue wait (sbatch to start), ``sacct``'s Elapsed
and AllocCPUS and its attempts, shown in the run detail and the CSV; every
failure message names the job's log files (submitit's ``%A_%a_0_log.out`` and
``.err``); the record ends with SLURM's final word, also after a cancel; a
RUNNING state carries no pending reason; a job that hit its time limit is
timed out in SLURM's words and says how long it ran by ``sacct``, not the
limit again (the suite's one wait on SLURM's minute); and a note every job of
the array writes (its fork server started) is said once per session.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import child_env, tiny
from slurm_cluster import require_real_slurm
from test_slurm import _run  # the supervisor over a SLURM executor, closed after

from qtui.analysis.fold import SessionSummary
from qtui.analysis.outcomes import describe_error
from qtui.analysis.summary_builder import document
from qtui.cluster.jobs_folder import JobRecord
from qtui.cluster.slurm_executor import SlurmExecutor, TaskState, elapsed_seconds
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.core.summary_schema import Run
from qtui.engine.supervisor import Supervisor
from qtui.report.export import render
from qtui.ui.screens.run_detail import run_text

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def cluster_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    require_real_slurm()
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("QTUI_TEST_SLEEP", "0.5")
    yield


def _sacct(job_id: str) -> dict[str, str]:
    """sacct's own accounting of one task (its last attempt), times as unix seconds."""
    out = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-j", job_id.partition("_")[0],
         "-o", "JobID,State,Submit,Start,ElapsedRaw,AllocCPUS"],
        capture_output=True, text=True, check=True, timeout=30,
        env={**os.environ, "SLURM_TIME_FORMAT": "%s"},
    ).stdout
    for line in out.splitlines():
        jid, state, submit, start, elapsed, cpus = line.split("|")
        if jid == job_id:
            return {"state": state.split()[0], "submit": submit, "start": start,
                    "elapsed": elapsed, "cpus": cpus}
    raise AssertionError(f"sacct does not know {job_id}: {out}")


def _logs(folder: Path, job_id: str) -> list[str]:
    """The job's log files, where submitit put them (``%A_%a_0_log.out``/``.err``)."""
    return [str(folder / "submitit" / f"{job_id}_0_log.{ext}") for ext in ("out", "err")]


def test_each_run_records_its_accounting_names_its_logs_and_ends_in_slurms_word(
    tmp_path: Path, cluster_env: None
) -> None:
    specs = [
        RunSpec("default.qubit", "backprop", tiny(), run_id="r1"),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:raises"), run_id="r2"),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:slow", epochs=40),
                run_id="r3"),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:slow", epochs=40),
                run_id="r4"),
    ]
    opts = SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path / "jobs"), time_limit_min=5,
                        exclusive=False)
    executor = SlurmExecutor(opts, poll_s=0.5)
    jobs: dict[str, str] = {}
    cancelled: list[str] = []

    def outside_scancel() -> None:  # r3's job, cancelled by its user with scancel
        log = executor.folder / "events" / "r3.jsonl"  # type: ignore[operator]
        deadline = time.monotonic() + 200
        while '"type":"batch"' not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "r3 never trained"
            time.sleep(0.1)
        subprocess.run(["scancel", jobs["r3"]], check=True, timeout=30)

    def on(e: ev.Event, sup: Supervisor) -> None:
        if isinstance(e, ev.JobState) and e.run_id not in jobs:
            jobs[e.run_id] = e.job_id
            if e.run_id == "r3":
                threading.Thread(target=outside_scancel, daemon=True).start()
        if e.type == "batch" and getattr(e, "run_id", "") == "r4" and not cancelled:
            cancelled.append("r4")  # qtui's own cancel of a running job
            threading.Thread(target=sup.cancel, args=("r4",), daemon=True).start()

    events = _run(specs, executor, on)
    folder = executor.folder
    assert folder is not None
    summary = SessionSummary()
    for e in events:
        summary.apply(e)
    doc = document(summary)
    runs: dict[str, Run] = {r.run_id: r for r in doc.runs}
    assert [runs[r].state for r in ("r1", "r2", "r3", "r4")] == [
        "finished", "failed", "cancelled", "cancelled"], {r: runs[r].error for r in runs}

    # SLURM's final word ends every record, a cancelled job's too (item 8)
    assert {r: runs[r].job_state for r in runs} == {
        "r1": "COMPLETED", "r2": "FAILED", "r3": "CANCELLED", "r4": "CANCELLED"}
    for r, run in runs.items():
        acct = _sacct(jobs[r])
        assert acct["state"] == run.job_state, (r, acct)
        # the accounting, from sacct once the job ended (item 7)
        assert run.attempts == 1, r
        assert run.alloc_cpus == int(acct["cpus"]), (r, run.alloc_cpus, acct)
        assert run.slurm_elapsed_s == float(acct["elapsed"]), (r, run.slurm_elapsed_s, acct)
        assert run.queue_wait_s == float(int(acct["start"]) - int(acct["submit"])), (r, acct)
        # the job's logs are named (item 4) ...
        logs = _logs(folder, jobs[r])
        assert run.job_logs == logs and all(Path(p).is_file() for p in logs), (r, run.job_logs)
        detail = run_text(summary.runs[r], r, None).plain
        assert all(p in detail for p in logs), detail
        assert "queue wait" in detail and "AllocCPUS" in detail, detail
        # ... in every failure message
        if r != "r1":
            why = describe_error(run.error, run.state)
            assert all(p in why for p in logs), why
    assert "cancelled outside qtui" in str(runs["r3"].error.detail)  # type: ignore[union-attr]
    assert "cancelled outside qtui" in run_text(summary.runs["r3"], "r3", None).plain

    # a RUNNING state carries no pending reason (item 8)
    running = [e for e in events if isinstance(e, ev.JobState) and e.state == "RUNNING"]
    assert running and not [e.reason for e in running if e.reason], running

    # a note every job writes is said once per session (item 8): four fork servers started
    notes = [e.message for e in events if isinstance(e, ev.LogNote)]
    forks = [n for n in notes if n.startswith("job ") and "fork server started" in n]
    assert len(forks) == 1, notes
    assert [n for n in notes if n.startswith('slurm: 4 jobs said "fork server started')], notes

    # the CSV has the accounting beside the job's placement
    rows = list(csv.DictReader(io.StringIO(str(render(doc, "csv")))))
    header = list(rows[0])
    at = header.index("job_state")
    assert header[at + 1:at + 5] == ["attempts", "queue_wait_s", "slurm_elapsed_s", "alloc_cpus"]
    row = next(row for row in rows if row["run_id"] == "r1")
    assert (row["attempts"], row["alloc_cpus"]) == ("1", str(runs["r1"].alloc_cpus))
    assert float(row["slurm_elapsed_s"]) == runs["r1"].slurm_elapsed_s


def test_a_job_past_its_time_limit_is_timed_out_in_slurms_words_and_by_sacct(
    tmp_path: Path, cluster_env: None
) -> None:
    """One job waits out SLURM's minute (``--time-limit 1``) for both claims: the run
    ends as timed out in SLURM's words (``TIMEOUT``, the 60 s limit), and its record
    says how long it ran by sacct, not the limit again ('timed out after 60 s' where
    sacct said 1:13).  Two tests waited out the same minute before."""
    from qtui.analysis.fold import error_record

    spec = RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs"), run_id="r1")
    opts = SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path / "jobs"), time_limit_min=1,
                        exclusive=False)
    executor = SlurmExecutor(opts, poll_s=1.0)
    events = _run([spec], executor)
    ends = [e for e in events if e.type in ev.TERMINAL_TYPES]
    assert len(ends) == 1, [e.to_dict() for e in ends]
    end = ends[0]
    # SLURM's words on the run's end, and the limit, from the event alone
    assert isinstance(end, ev.RunTimedOut), end.to_dict()
    assert end.scheduler_state == "TIMEOUT" and end.timeout_s == 60, end.to_dict()
    assert "TIMEOUT" in end.detail and "time limit" in end.detail  # no longer dropped
    said = describe_error(error_record(end.to_dict()), "timed_out")
    assert said == "timed out after 60 s (SLURM: TIMEOUT)", said
    # the run's record: how long it ran by sacct, the limit as the limit, its logs
    summary = SessionSummary()
    for e in events:
        summary.apply(e)
    run = summary.runs["r1"].to_run()
    job_id = run.job_id or ""
    acct = _sacct(job_id)
    ran = float(acct["elapsed"])
    assert acct["state"] == "TIMEOUT" and run.slurm_elapsed_s == ran >= 60
    why = describe_error(run.error, run.state)
    assert why.startswith(f"timed out after {ran:g} s (limit 60 s)"), why
    assert "SLURM: TIMEOUT" in why
    assert all(p in why for p in _logs(executor.folder or Path(), job_id)), why


def test_elapsed_reads_every_spelling_sacct_uses() -> None:
    assert elapsed_seconds("73") == 73.0  # ElapsedRaw
    assert elapsed_seconds("00:01:13") == 73.0
    assert elapsed_seconds("1:13") == 73.0
    assert elapsed_seconds("1-02:03:04") == 93784.0
    for bad in ("", "Unknown", "INVALID", "1:xx", "\uff11"):
        assert elapsed_seconds(bad) is None, bad


def test_a_job_that_starts_running_drops_its_pending_reason(tmp_path: Path) -> None:
    """Its log started (the node's machine info) before the poller saw RUNNING: the
    state was set to RUNNING but kept the reason 'Resources' (item 8)."""
    executor = SlurmExecutor(SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path)))
    said: list[ev.Event] = []
    executor._emit = said.append
    executor._records["r1"] = JobRecord(run_id="r1", spec={}, job_id="7_0", array_task_id="0")
    executor._states["r1"] = TaskState(state="PENDING", reason="Resources")
    executor.note_machine("r1", {"hostname": "vm"})
    state = said[-1]
    assert isinstance(state, ev.JobState)
    assert (state.state, state.reason, state.node) == ("RUNNING", "", "vm")


@pytest.mark.parametrize(
    ("sacct", "said", "attempt", "wait", "ran"),
    [
        # a started array task's row and, for a while, the pending range it came from:
        # read as a second attempt, a run never requeued said "REQUEUED, attempt 2"
        ("4242_1|COMPLETED|node7|None|100|105|8|1\n"
         "4242_[1-2%1]|PENDING|None assigned|JobArrayTaskLimit|100|Unknown|0|1",
         ["COMPLETED"], 1, 5.0, 8.0),
        # a task SLURM requeued: its attempts in order, the queue wait is the first's
        ("4242_1|REQUEUED|node7|None|100|101|5|1\n4242_1|COMPLETED|node7|None|106|110|8|1",
         ["REQUEUED", "COMPLETED"], 2, 1.0, 8.0),
        # cancelled while it waited: no node, so no accounting
        ("4242_1|CANCELLED by 0|None assigned|None|100|130|18|1", ["CANCELLED"], 1, None, None),
    ],
)
def test_sacct_rows_are_read_as_slurm_means_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sacct: str, said: list[str],
    attempt: int, wait: float | None, ran: float | None,
) -> None:
    """SLURM's own lines (``sacct -X -P -D``, times as unix seconds) from real-tool
    stand-ins at the front of PATH: the task has left squeue, sacct has the rest."""
    from test_slurm_outage import _tool

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    _tool(bin_dir, "squeue", "exit 0")
    _tool(bin_dir, "sacct", f"cat <<'END'\n{sacct}\nEND")
    executor = SlurmExecutor(SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path)))
    events: list[ev.Event] = []
    executor._emit = events.append
    executor._records["r1"] = JobRecord(run_id="r1", spec={}, job_id="4242_1", array_task_id="1")
    executor._states["r1"] = TaskState(state="RUNNING", node="node7", attempt=1)
    executor.poll_once()
    states = [e for e in events if isinstance(e, ev.JobState)]
    assert [e.state for e in states] == said
    last = states[-1]
    assert (last.attempt, last.queue_wait_s, last.elapsed_s) == (attempt, wait, ran)
    assert last.alloc_cpus == (1 if ran is not None else None)
