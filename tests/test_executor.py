"""The executor seam: the registry, and executors written outside qtui driven by the
same supervisor loop.  ``FollowExecutor`` has the shape of the planned cluster
executor: a job (here a local process) runs a job-side supervisor that writes
events to a JSONL file in a shared folder, and qtui follows that file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import Recorder, assert_no_children, run_session, tiny

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.core.logtail import LogTail
from qtui.engine import executor as ex
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.supervisor import Supervisor
from qtui.engine.thread_executor import ThreadExecutor


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from engine_helpers import child_env

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    saved = dict(ex.EXECUTORS)
    yield
    ex.EXECUTORS.clear()
    ex.EXECUTORS.update(saved)
    assert_no_children()


# --- registry ---------------------------------------------------------------------


def test_registry_names_the_built_in_executors() -> None:
    assert ex.executor_names()[:2] == ["process", "thread"]
    assert isinstance(ex.get_executor("process"), ProcessExecutor)
    assert isinstance(ex.get_executor("thread"), ThreadExecutor)
    with pytest.raises(ValueError, match="isolation must be one of 'process', 'thread'"):
        ex.get_executor("nope")
    with pytest.raises(ValueError, match="got 'nope'"):
        Supervisor([], lambda e: None, isolation="nope")
    assert Supervisor([], lambda e: None, isolation="thread").isolation == "thread"


# --- an executor that cannot launch ------------------------------------------------


class NeverStarts(ex.Executor):
    name = "never"

    def launch(self, spec: RunSpec, emit: ex.Emit, wake: ex.Wake) -> ex.RunHandle:
        raise ex.LaunchError(f"no slot for {spec.run_id}")


def test_a_launch_error_is_a_crash_and_the_session_goes_on() -> None:
    ex.register("never", f"{__name__}:NeverStarts")
    specs = [RunSpec("default.qubit", "backprop", tiny(), repeat_index=i) for i in range(2)]
    sup, rec = run_session(specs, isolation="never")
    for spec in sup.specs:
        crash = rec.terminal(spec.run_id)
        assert isinstance(crash, ev.RunCrashed) and crash.stderr_tail == f"no slot for {spec.run_id}"
    assert rec.of("run_launched") == []
    assert rec.events[-1].type == "session_finished"


# --- a plain process that ignores SIGTERM: cancel, then kill after the grace ---------

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


class StubbornRun(ex.RunHandle):
    def __init__(self, wake: ex.Wake) -> None:
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # SIGTERM is ignored from here on
        self.pid = self.sample_pid = self.proc.pid
        self.calls: list[str] = []
        threading.Thread(target=lambda: (self.proc.wait(), wake()), daemon=True).start()

    def done(self) -> bool:
        return self.proc.poll() is not None

    def cancel(self) -> None:
        self.calls.append("cancel")
        self.proc.terminate()

    def kill(self) -> None:
        self.calls.append("kill")
        self.proc.kill()

    def finish(self) -> ex.RunEnd:
        code = self.proc.wait()
        return ex.RunEnd(exit_code=code, detail="exited")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


class StubbornExecutor(ex.Executor):
    name = "stubborn"

    def __init__(self) -> None:
        self.handles: list[StubbornRun] = []

    def launch(self, spec: RunSpec, emit: ex.Emit, wake: ex.Wake) -> ex.RunHandle:
        self.handles.append(StubbornRun(wake))
        return self.handles[-1]


def test_a_run_that_ignores_cancel_is_killed_after_the_grace() -> None:
    executor = StubbornExecutor()
    spec = RunSpec("default.qubit", "backprop", tiny(), timeout_s=0.5)
    sup, rec = run_session([spec], executor=executor, kill_grace_s=0.3, interval=0.05)
    run_id = sup.specs[0].run_id
    assert isinstance(rec.terminal(run_id), ev.RunTimedOut)
    assert executor.handles[0].calls == ["cancel", "kill"]
    launched = rec.of("run_launched", run_id)[0]
    assert launched.isolation == "stubborn" and launched.pid == executor.handles[0].pid
    assert rec.of("sample", run_id)  # sample_pid given: the supervisor sampled it


# --- the cluster shape: a job-side supervisor writes a JSONL file qtui follows ------

JOB = """
import json, signal, sys
from qtui.core.config import RunSpec
from qtui.engine.supervisor import Supervisor
spec = RunSpec.from_dict(json.loads(sys.argv[2]))
sup = Supervisor([spec], lambda e: None, events_path=sys.argv[1], machine={"hostname": "job"})
signal.signal(signal.SIGTERM, lambda *a: sup.cancel_all())  # like scancel's SIGTERM
sup.run()
"""

#: What the local supervisor says itself: the session framing and the launch.
_JOB_FRAMING = frozenset(
    {"session_started", "session_finished", "run_queued", "run_refused", "run_launched"}
)


class FollowRun(ex.RunHandle):
    def __init__(self, spec: RunSpec, folder: Path, emit: ex.Emit, wake: ex.Wake) -> None:
        self.log = folder / f"{spec.run_id}.jsonl"
        self.t0 = time.monotonic()
        self.job = subprocess.Popen(
            [sys.executable, "-c", JOB, str(self.log), json.dumps(spec.to_dict())]
        )
        self.pid = self.job.pid  # a job id on a cluster; nothing to sample locally
        self._emit, self._wake = emit, wake
        self._drained = threading.Event()
        self._follower = threading.Thread(target=self._follow, daemon=True)
        self._follower.start()

    def _follow(self) -> None:
        tail = LogTail(self.log)
        while True:
            ended = self.job.poll() is not None
            for event in tail.poll(final=ended):
                if event.type not in _JOB_FRAMING:
                    self._emit(event)
            if ended and not tail.behind:
                break
            time.sleep(0.05)
        tail.close()
        self._drained.set()
        self._wake()

    def done(self) -> bool:
        return self._drained.is_set()

    def cancel(self) -> None:
        self.job.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.job.kill()

    def finish(self) -> ex.RunEnd:
        self._follower.join()
        return ex.RunEnd(exit_code=self.job.wait(), detail="the job ended without a result")

    def close(self) -> None:
        if self.job.poll() is None:
            self.job.kill()
        self.job.wait()


class FollowExecutor(ex.Executor):
    name = "follow"

    def __init__(self, folder: str | None = None) -> None:
        self.folder = Path(folder or tempfile.mkdtemp(prefix="qtui-follow-"))

    def launch(self, spec: RunSpec, emit: ex.Emit, wake: ex.Wake) -> ex.RunHandle:
        return FollowRun(spec, self.folder, emit, wake)


def test_a_file_following_executor_fits_the_seam() -> None:
    ex.register("follow", f"{__name__}:FollowExecutor")  # the one registration line
    specs = [
        RunSpec("default.qubit", "backprop", tiny()),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs")),
    ]
    rec = Recorder()
    # A cluster's grace is long (SLURM's KillWait): the job-side supervisor winds down itself.
    sup = Supervisor(specs, rec, isolation="follow", machine={"hostname": "test"}, kill_grace_s=10)
    first, second = (s.run_id for s in sup.specs)

    def cancel_second(event: ev.Event) -> None:
        if event.type == "run_started" and getattr(event, "run_id", None) == second:
            sup.cancel(second)

    rec.hooks.append(cancel_second)
    sup.run()

    fin = rec.terminal(first)
    assert isinstance(fin, ev.RunFinished) and fin.steps == 4
    assert fin.peak_rss > 50 * 2**20  # merged by the job-side supervisor (its ru_maxrss)
    samples = rec.of("sample", first)
    assert samples and max(s.peak_rss for s in samples) <= fin.peak_rss  # sampled job-side
    [launched] = rec.of("run_launched", first)
    assert launched.isolation == "follow"
    # cancel reached the job-side supervisor, whose run_cancelled is the only terminal event
    cancelled = rec.terminal(second)
    assert isinstance(cancelled, ev.RunCancelled)
    assert cancelled.reason == "session cancelled"  # the job-side supervisor's words
    kinds = [e.type for e in rec.events]
    assert kinds.count("session_started") == 1 and kinds.count("session_finished") == 1
    assert kinds[-1] == "session_finished" and rec.events[-1].interrupted is False
