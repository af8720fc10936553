"""``--executor slurm`` against a real SLURM (issue 13), else submitit's local executor.

``scripts/test`` starts a throwaway single-node cluster (``scripts/local-slurm``)
when it can (root and apt-get, as in CI) and exports ``SLURM_CONF``; these tests
then submit real job arrays to it.  Without one, the same tests run with
submitit's local executor (jobs are local processes) and the SLURM-only ones
are skipped with the reason.  Real PennyLane and torch in every job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import child_env, tiny
from slurm_cluster import cluster

from qtui.cluster.jobs_folder import read_manifest
from qtui.cluster.slurm_executor import SlurmExecutor
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.supervisor import Supervisor

KIND, WHY = cluster()
if WHY:
    print(f"\ntest_slurm: running on submitit's local executor: {WHY}", file=sys.stderr)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Jobs inherit the submitting environment (sbatch --export=ALL): tests/ importable.
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("QTUI_SUBMITIT_CLUSTER", KIND)
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    yield


def _options(tmp_path: Path, **changes: object) -> SlurmOptions:
    opts = SlurmOptions(cluster=KIND, jobs_dir=str(tmp_path / "jobs"), time_limit_min=5)
    for k, v in changes.items():
        setattr(opts, k, v)
    return opts


def _run(specs: list[RunSpec], executor: SlurmExecutor, on: object = None) -> list[ev.Event]:
    events: list[ev.Event] = []

    def on_event(e: ev.Event) -> None:
        events.append(e)
        if callable(on):
            on(e, sup)

    sup = Supervisor(specs, on_event, executor=executor)
    try:
        sup.run()
    finally:
        executor.close()
    return events


def _terminal(events: list[ev.Event], run_id: str) -> ev.Event:
    ends = [e for e in events if e.type in ev.TERMINAL_TYPES and getattr(e, "run_id", "") == run_id]
    assert len(ends) == 1, [e.to_dict() for e in ends]
    return ends[0]


def _qtui(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "qtui", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, **kw,  # type: ignore[arg-type]
    )


def _sacct_state(job_id: str) -> str:
    out = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "JobID,State"],
        capture_output=True, text=True, check=False,
    ).stdout
    for line in out.splitlines():
        jid, _, state = line.partition("|")
        if jid == job_id:
            return state.split()[0]
    return ""


def test_a_sweep_is_one_job_array_and_its_summary_has_every_field(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    proc = _qtui(
        "sweep", "--executor", "slurm", "--jobs-dir", str(tmp_path / "jobs"),
        "--combos", "default.qubit+backprop,default.qubit+adjoint", "--qubits", "2,3",
        "--steps", "3", "--warmup", "1", "--samples", "20", "--batch-size", "5",
        "--time-limit", "5", "--no-exclusive", "--json", str(out),
    )
    stdout, stderr = proc.communicate(timeout=280)
    assert proc.returncode == 0, stderr
    assert "Submitting 4 run(s) as one job array" in stderr
    data = json.loads(out.read_text())
    runs = data["runs"]
    assert [r["state"] for r in runs] == ["finished"] * 4
    for r in runs:
        assert r["executor"] == ("slurm" if KIND == "slurm" else "submitit-local")
        assert r["job_id"] and r["node"] and r["job_state"] in ("COMPLETED", "RUNNING")
        assert r["node_machine"]["logical_cores"] >= 1
        assert r["result"]["peak_rss"] > 0 and r["result"]["steps"] == 3
    if KIND == "slurm":
        arrays = {r["job_id"].partition("_")[0] for r in runs}
        assert len(arrays) == 1, "one sweep, one job array"
        assert sorted(r["array_task_id"] for r in runs) == ["0", "1", "2", "3"]
    # the same analysis as a local sweep: per-point table and verdicts
    assert data["sweep"]["qubits"]["verdicts"]
    assert "Crossovers (qubit count)" in stdout
    folder = Path(stderr.split("jobs folder ")[1].split(".")[0].replace("\n", ""))
    manifest = read_manifest(folder)
    assert [j.run_id for j in manifest.jobs] == [r["run_id"] for r in runs]


def test_a_raising_job_and_a_cancelled_job_are_recorded_as_what_they_were(tmp_path: Path) -> None:
    specs = [
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:raises"), run_id="r1"),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:slow", epochs=40), run_id="r2"),
        RunSpec("default.qubit", "backprop", tiny(), run_id="r3"),
    ]
    executor = SlurmExecutor(_options(tmp_path, exclusive=False), poll_s=0.5)
    cancelled_at: list[float] = []

    def on(e: ev.Event, sup: Supervisor) -> None:
        if e.type == "batch" and getattr(e, "run_id", "") == "r2" and not cancelled_at:
            cancelled_at.append(time.monotonic())
            threading.Thread(target=sup.cancel, args=("r2",), daemon=True).start()

    events = _run(specs, executor, on)
    failed = _terminal(events, "r1")
    assert isinstance(failed, ev.RunFailed)
    assert "fails on purpose" in failed.message and "Traceback" in failed.traceback
    cancelled = _terminal(events, "r2")
    assert isinstance(cancelled, ev.RunCancelled) and cancelled.scheduler_state == "CANCELLED"
    assert isinstance(_terminal(events, "r3"), ev.RunFinished)
    states = {(e.run_id, e.state) for e in events if isinstance(e, ev.JobState)}
    assert ("r1", "FAILED") in states or KIND != "slurm"
    if KIND == "slurm":
        job = {e.run_id: e.job_id for e in events if isinstance(e, ev.JobState)}
        deadline = time.monotonic() + 30
        while _sacct_state(job["r2"]) != "CANCELLED" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _sacct_state(job["r2"]) == "CANCELLED"
        assert _sacct_state(job["r1"]) == "FAILED"  # the run raised: the job says so too


def test_runs_per_job_share_one_warm_job_and_one_of_them_can_be_cancelled(tmp_path: Path) -> None:
    """--runs-per-job 3: one job, torch imported once; cancelling the middle run
    (a cancel file, not scancel) leaves the other two to finish."""
    specs = [
        RunSpec("default.qubit", "backprop", tiny(), run_id="r1"),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:slow", epochs=40), run_id="r2"),
        RunSpec("default.qubit", "adjoint", tiny(), run_id="r3"),
    ]
    executor = SlurmExecutor(_options(tmp_path, runs_per_job=3, exclusive=False), poll_s=0.5)

    def on(e: ev.Event, sup: Supervisor) -> None:
        if e.type == "batch" and getattr(e, "run_id", "") == "r2":
            sup.cancel("r2")

    events = _run(specs, executor, on)
    assert isinstance(_terminal(events, "r1"), ev.RunFinished)
    cancelled = _terminal(events, "r2")
    assert isinstance(cancelled, ev.RunCancelled) and cancelled.scheduler_state == ""
    assert isinstance(_terminal(events, "r3"), ev.RunFinished)
    jobs = {e.job_id for e in events if isinstance(e, ev.JobState)}
    assert len(jobs) == 1, jobs
    servers = [e for e in events if isinstance(e, ev.LogNote) and "fork server started" in e.message]
    assert len(servers) == 1, "torch and pennylane imported once for the three runs"
    assert (executor.folder / "cancel" / "r2").exists()


def test_a_task_the_scheduler_no_longer_knows_ends_as_lost(tmp_path: Path) -> None:
    """A pending array task dropped by SLURM must not leave qtui waiting forever."""
    from qtui.cluster.jobs_folder import JobRecord, Manifest, write_manifest

    folder = tmp_path / "jobs" / "gone"
    spec = RunSpec("default.qubit", "backprop", tiny(), run_id="r1")
    ghost = "999999_0" if KIND == "slurm" else "999999999"  # no such job / pid
    write_manifest(
        folder,
        Manifest(
            session_id="gone", cluster=KIND, options=_options(tmp_path).to_dict(),
            jobs=[JobRecord(run_id="r1", spec=spec.to_dict(), job_id=ghost, events="events/r1.jsonl")],
        ),
    )
    executor = SlurmExecutor(attach=folder, poll_s=0.2, lost_after_s=1.0)
    t0 = time.monotonic()
    events = _run([spec], executor)
    end = _terminal(events, "r1")
    assert isinstance(end, ev.RunCrashed) and end.scheduler_state == "LOST"
    assert "no longer known" in end.stderr_tail
    assert time.monotonic() - t0 < 30


def test_quitting_leaves_the_jobs_running_and_watch_reattaches(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    env = {"QTUI_TEST_SLEEP": "0.3"}
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(jobs), "--no-exclusive",
        "--device", "default.qubit", "--diff-method", "backprop",
        "--workload", "workloads.faulty:slow", "--epochs", "1", "--samples", "40",
        "--batch-size", "5", "--time-limit", "5", env=env,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 200
    while "started" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "started" in seen, seen
    proc.send_signal(signal.SIGHUP)  # the terminal closed: nobody to ask, jobs go on
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 129, seen + rest
    assert "re-attach with: qtui watch --jobs-dir" in rest
    session = next(jobs.iterdir())
    out = tmp_path / "merged.json"
    watch = _qtui("watch", "--jobs-dir", str(jobs), "--no-tui", "--json", str(out), env=env)
    stdout, stderr = watch.communicate(timeout=240)
    assert watch.returncode == 0, stderr
    data = json.loads(out.read_text())
    assert [r["state"] for r in data["runs"]] == ["finished"]  # one job: the re-attach is the subject
    assert {r["job_id"] for r in data["runs"]} == {j.job_id for j in read_manifest(session).jobs}
    assert "Results" in stdout


def test_ctrl_c_without_a_terminal_cancels_the_jobs(tmp_path: Path) -> None:
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(tmp_path / "jobs"), "--no-exclusive",
        "--device", "default.qubit", "--diff-method", "backprop",
        "--workload", "workloads.faulty:slow", "--epochs", "20", "--samples", "40",
        "--batch-size", "5", env={"QTUI_TEST_SLEEP": "0.5"}, stdin=subprocess.DEVNULL,
    )
    assert proc.stderr is not None
    seen = ""
    while "started" not in seen:
        line = proc.stderr.readline()
        assert line, seen
        seen += line
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=90)
    assert proc.returncode == 130, seen + rest
    assert "cancelling the jobs (no terminal to ask)" in rest
    manifest = read_manifest(next((tmp_path / "jobs").iterdir()))
    if KIND == "slurm":
        job_id = manifest.jobs[0].job_id
        deadline = time.monotonic() + 30
        while _sacct_state(job_id) != "CANCELLED" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _sacct_state(job_id) == "CANCELLED"
