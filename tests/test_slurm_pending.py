"""Array tasks that have not started are tracked as SLURM reports them (issue 22, items 1, 2).

``sacct -X`` lists the pending tasks of an array as one line, ``58_[1-3%4]``;
qtui read only single tasks (``58_1``), so pending ones were unknown to it and
an outside ``scancel`` of the array had them declared LOST after 120 s.  The
parsing is checked on SLURM's own spellings, then on the real local cluster:
tasks held pending with ``--array-parallelism 1``, the array cancelled from
outside, and the session must end within 20 s with every task cancelled; the
console says each state as the scheduler does, once per change.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from engine_helpers import child_env
from slurm_cluster import require_real_slurm
from test_slurm import _qtui

from qtui.cluster.jobs_folder import read_manifest
from qtui.cluster.slurm_executor import array_tasks
from qtui.core.config import ConfigError

WANTED = {"58_0", "58_1", "58_2", "58_3", "58_4", "58_5", "59_1"}


@pytest.mark.parametrize(
    ("job_id", "tasks"),
    [
        ("58_1", ["58_1"]),
        ("58_[1-3%4]", ["58_1", "58_2", "58_3"]),
        ("58_[1,3-5]", ["58_1", "58_3", "58_4", "58_5"]),
        ("58_[0]", ["58_0"]),
        ("58_[2-3]", ["58_2", "58_3"]),
        ("58_[4-9%1]", ["58_4", "58_5"]),  # only the tasks qtui follows
        ("59_[0-3]", ["59_1"]),
        ("60_[1-3]", []),  # another array
        ("58", []),  # the array's own id is no task
        ("58_[x-3]", []),
        ("58_[\uff11]", []),  # a full-width digit is not SLURM's
    ],
)
def test_an_array_line_stands_for_its_tasks(job_id: str, tasks: list[str]) -> None:
    assert array_tasks(job_id, WANTED) == tasks


@pytest.mark.timeout(300)
def test_an_outside_scancel_of_pending_tasks_cancels_them_all_none_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_real_slurm()
    # Jobs inherit the submitting environment (sbatch --export=ALL): tests/ importable.
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    jobs, out = tmp_path / "jobs", tmp_path / "out.json"
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(jobs), "--no-exclusive",
        "--array-parallelism", "1", "--repeat", "3", "--json", str(out),
        "--device", "default.qubit", "--diff-method", "backprop",
        "--workload", "workloads.faulty:slow", "--epochs", "20", "--samples", "40",
        "--batch-size", "5", env={"QTUI_TEST_SLEEP": "0.5", "QTUI_NO_HISTORY": "1"},
        stdin=subprocess.DEVNULL,
    )
    assert proc.stderr is not None
    seen = ""
    while "started" not in seen:  # the first task runs; the other two wait behind it
        line = proc.stderr.readline()
        assert line, seen
        seen += line
    array = read_manifest(next(jobs.iterdir())).jobs[0].job_id.partition("_")[0]
    cancelled_at = time.monotonic()
    subprocess.run(["scancel", array], check=True, timeout=30)
    _, rest = proc.communicate(timeout=120)
    took = time.monotonic() - cancelled_at
    runs = json.loads(out.read_text())["runs"]
    states = [(r["state"], r.get("job_state")) for r in runs]
    assert len(runs) == 3 and all(r["state"] == "cancelled" for r in runs), (states, rest)
    assert "LOST" not in rest and "lost" not in rest, rest
    assert took < 20, (took, rest)
    # the console said what the scheduler said, one line per change (issue 22, item 2)
    said = seen + rest
    assert f"job {array}_1 PENDING (" in said and f"job {array}_0 RUNNING on " in said, said
    assert said.count(f"job {array}_0 RUNNING on ") == 1, said  # not again for the node's info
    assert f"job {array}_2 CANCELLED" in said, said


@pytest.mark.parametrize(
    ("n_runs", "asked", "limit", "per"),
    [
        (3, 1, 1001, 1),
        (1001, 1, 1001, 1),  # task ids 0..1000: the most MaxArraySize=1001 allows
        (1002, 1, 1001, 2),  # the issue's --repeat 1002: two runs a job, 501 tasks
        (5000, 2, 1001, 5),
        (10, 4, 1001, 4),  # what was asked when it fits
        (10, 1, None, 1),  # the scheduler did not say: as asked
    ],
)
def test_an_array_above_max_array_size_packs_runs(
    n_runs: int, asked: int, limit: int | None, per: int
) -> None:
    from qtui.cluster.slurm_executor import runs_per_job_for

    assert runs_per_job_for(n_runs, asked, limit) == per
    assert -(-n_runs // per) <= (limit or n_runs)


def test_the_array_limit_is_read_from_the_cluster() -> None:
    require_real_slurm()
    from qtui.cluster.slurm_executor import array_limit

    out = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    line = next(x for x in out.splitlines() if x.startswith("MaxArraySize"))
    assert array_limit() == int(line.partition("=")[2])


def test_lost_after_and_poll_come_from_the_flags_and_the_poll_adapts() -> None:
    import argparse

    from qtui.cluster import slurm_options
    from qtui.cluster.slurm_executor import STARTING_POLL_S, STEADY_POLL_S, SlurmExecutor, TaskState

    p = argparse.ArgumentParser()
    slurm_options.add_flags(p)
    given = slurm_options.parse(p.parse_args(["--executor", "slurm", "--lost-after", "30", "--poll", "5"]))
    ex = SlurmExecutor(given)
    assert (ex.lost_after_s, ex.poll_interval()) == (30.0, 5.0)
    default = SlurmExecutor(slurm_options.parse(p.parse_args(["--executor", "slurm"])))
    assert default.lost_after_s == 600.0  # ten minutes, not two: a pending task is no lost one
    default._states = {"r1": TaskState("RUNNING"), "r2": TaskState("PENDING")}
    assert default.poll_interval() == STARTING_POLL_S
    default._states["r2"] = TaskState("RUNNING")
    assert default.poll_interval() == STEADY_POLL_S
    for flag, value, says in (("--lost-after", "5", "at least 10"), ("--poll", "0", "at least 0.5"),
                              ("--poll", "soon", "must be a number")):
        with pytest.raises(ConfigError) as info:
            slurm_options.parse(p.parse_args(["--executor", "slurm", flag, value]))
        assert info.value.field == flag[2:] and says in str(info.value)


@pytest.mark.timeout(300)
def test_a_refused_submission_is_one_line_with_slurms_words_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 4: a bad partition gave 'crashed, exit code None' once per run and
    never said why; now one line carries sbatch's message, and no manifest is written."""
    require_real_slurm()
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    jobs, out = tmp_path / "jobs", tmp_path / "out.json"
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(jobs), "--partition", "nosuch",
        "--repeat", "3", "--epochs", "1", "--json", str(out),
        env={"QTUI_NO_HISTORY": "1"}, stdin=subprocess.DEVNULL,
    )
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("qtui: error:")]
    assert len(errors) == 1 and "not submitted" in errors[0], stderr
    assert "partition" in errors[0].lower(), errors  # sbatch's own words
    assert "crashed, exit code None" not in stderr + stdout
    assert "Results" not in stdout  # nothing ran: no tables of nothing
    assert not list(jobs.rglob("manifest.json"))
    runs = json.loads(out.read_text())["runs"]
    assert [r["state"] for r in runs] == ["crashed"] * 3  # recorded, with the reason
    assert all("not submitted" in r["error"]["stderr_tail"] for r in runs)


def test_while_a_job_is_pending_the_console_says_where_every_job_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 2: a jobs line every ``jobs_every_s`` (30 s by default; 1 s here,
    time injected) while some job is pending, with SLURM's words for each."""
    require_real_slurm()
    import io

    from engine_helpers import tiny
    from rich.console import Console

    from qtui.cli.console_session import run_session
    from qtui.cluster.slurm_executor import SlurmExecutor
    from qtui.cluster.slurm_options import SlurmOptions
    from qtui.core.config import RunSpec

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("QTUI_TEST_SLEEP", "0.2")
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    opts = SlurmOptions(jobs_dir=str(tmp_path / "jobs"), exclusive=False, array_parallelism=1)
    params = tiny(workload="workloads.faulty:slow", epochs=2)
    specs = [RunSpec("default.qubit", "backprop", params, run_id=f"r{i}") for i in (1, 2)]
    err, out = io.StringIO(), io.StringIO()
    code = run_session(
        specs, executor=SlurmExecutor(opts), renumber=False, jobs_every_s=1.0,
        err=Console(file=err, width=200), out=Console(file=out, width=200),
    )
    said = err.getvalue()
    assert code == 0, said
    lines = [x for x in said.splitlines() if x.startswith("jobs: ")]
    # the second task waits behind the first (--array-parallelism 1): SLURM's reason
    assert any("1 RUNNING · 1 PENDING (JobArrayTaskLimit)" in x for x in lines), said
    assert all("since submission" in x for x in lines), lines
    # none once nothing is pending: the last task's run has no jobs line of its own
    assert not any("PENDING" not in x for x in lines), lines


def _slurmctld_pid() -> int:
    conf = Path(os.environ["SLURM_CONF"])
    for line in conf.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "SlurmctldPidFile":
            return int(Path(value.strip()).read_text().split()[0])
    raise AssertionError(f"no SlurmctldPidFile in {conf}")


#: ``--lost-after`` of the paused-controller test: its least, shorter than the pause.
_LOST_AFTER_S = 10


@pytest.mark.cluster_alone
@pytest.mark.timeout(400)
def test_a_paused_controller_loses_nothing_and_the_outage_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, items 1 and 8: slurmctld stopped (``kill -STOP``) while one task runs
    and one waits.  Before: the waiting tasks were declared LOST.  Now the outage is
    said, nothing is lost, and both runs finish once it answers again.

    The controller stays stopped until qtui has said the outage, and for longer than
    ``--lost-after``: not for a fixed minute.  The note's threshold is 5 s here
    (``QTUI_SLURM_OUTAGE_NOTE_S``; 30 s by default), so it comes with squeue's first
    failure (squeue's own timeout: 20 s on the local cluster).  The running task
    waits at a gate (``workloads.gated``) until the controller is back: a job that
    ended during the pause stayed COMPLETING for a minute after it.  That an outage
    never counts towards LOST however many polls fail is ``test_slurm_outage.py``'s."""
    require_real_slurm()
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    jobs, out, gate = tmp_path / "jobs", tmp_path / "out.json", tmp_path / "gate"
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(jobs), "--no-exclusive",
        "--array-parallelism", "1", "--repeat", "2", "--json", str(out), "--poll", "2",
        "--lost-after", str(_LOST_AFTER_S),  # shorter than the pause: an outage must never count
        "--device", "default.qubit", "--diff-method", "backprop",
        "--workload", "workloads.gated:gated", "--epochs", "1", "--samples", "10",
        "--batch-size", "5",
        env={"QTUI_TEST_GATE": str(gate), "QTUI_SLURM_OUTAGE_NOTE_S": "5",
             "QTUI_NO_HISTORY": "1"},
        stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []  # stderr, as qtui says it; stdout is read too, never to block it
    readers = [threading.Thread(target=lambda f=f, to=to: to.extend(iter(f.readline, "")),
                                daemon=True)
               for f, to in ((proc.stderr, lines), (proc.stdout, []))]
    for reader in readers:
        reader.start()

    def said() -> str:
        return "".join(list(lines))

    def wait_for(text: str, since: float, longer_than_s: float = 0.0) -> None:
        deadline = since + 120
        while text not in said() or time.monotonic() - since <= longer_than_s:
            assert time.monotonic() < deadline, f"no {text!r} within 120 s: {said()}"
            assert proc.poll() is None, said()
            time.sleep(0.1)

    try:
        # the first task runs (not just its job's fork server); the second waits behind it
        wait_for("#1: started,", time.monotonic())
        pid = _slurmctld_pid()
        os.kill(pid, signal.SIGSTOP)
        try:  # the outage itself is what is tested: until it is said, past --lost-after
            wait_for("the scheduler has not answered", time.monotonic(), _LOST_AFTER_S)
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        gate.touch()  # the running task goes on (at once, if the test failed)
    proc.wait(timeout=240)
    for reader in readers:
        reader.join(timeout=30)
    assert proc.returncode == 0, said()
    runs = json.loads(out.read_text())["runs"]
    assert [r["state"] for r in runs] == ["finished", "finished"], said()
    # no job read as LOST, no run as lost (the outage note itself says none is)
    assert not re.search(r"job \S+ LOST|lost: the scheduler", said()), said()
    assert "the scheduler has not answered" in said() and "answers again" in said(), said()


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        # a whole-node job holds the node: alone, after the others
        pytest.param((), True, marks=pytest.mark.cluster_alone, id="exclusive"),
        pytest.param(("--no-exclusive",), False, id="shared"),
    ],
)
def test_exclusive_nodes_are_said_to_bill_whole_nodes_in_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], said: bool
) -> None:
    """Issue 22, item 7: --exclusive stays the default for clean timings, and every
    report says that whole nodes were billed (a note of the summary, which each format
    prints); with --no-exclusive nothing is said."""
    require_real_slurm()
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    out = tmp_path / "out.json"
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(tmp_path / "jobs"), *flags,
        "--json", str(out), "--device", "default.qubit", "--diff-method", "backprop",
        "--epochs", "1", "--samples", "10", "--batch-size", "5",
        env={"QTUI_NO_HISTORY": "1"}, stdin=subprocess.DEVNULL,
    )
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    notes = json.loads(out.read_text())["notes"]
    assert any("each job is billed a whole node" in n for n in notes) is said, notes
