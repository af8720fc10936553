"""The supervisor contains every fault: real children, real PennyLane, no mocks.

The runs are forked from the suite's warm server (``tests/warm_executor.py``): these
tests are about the supervisor, not the server's start (``test_forkserver.py``)."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from engine_helpers import OffsetClock, alive, assert_no_children, run_session, start_session, tiny
from test_sampler import DEADLINE_S, wait_until

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from engine_helpers import child_env

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_children()


def test_failing_run_is_reported_and_the_next_run_still_runs(
    warm_executor: ProcessExecutor, tmp_path: Path
) -> None:
    specs = [
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:raises")),
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:garbles")),
    ]
    log = tmp_path / "events.jsonl"
    sup, rec = run_session(specs, executor=warm_executor, events_path=log)
    first, second = (s.run_id for s in sup.specs)

    failed = rec.terminal(first)
    assert isinstance(failed, ev.RunFailed)
    assert failed.exc_type == "FaultyLossError"
    assert "fails on purpose at batch 2" in failed.message
    assert "Traceback" in failed.traceback and "loss_fn" in failed.traceback
    assert len(rec.of("batch", first)) == 1  # one batch trained before the failure

    done = rec.terminal(second)
    assert isinstance(done, ev.RunFinished)
    # the garbage the second workload wrote to its event pipe became notes, not a crash
    notes = [e.message for e in rec.of("note")]
    assert any("not JSON" in n for n in notes), notes
    assert any("unknown event type 'no_such_event'" in n for n in notes), notes

    # session framing, in order, and the same stream in the JSONL log
    kinds = [e.type for e in rec.events]
    assert kinds[0] == "session_started" and kinds[-1] == "session_finished"
    assert kinds.count("run_queued") == 2
    assert kinds.index("run_queued") < kinds.index("run_started")
    assert rec.events[-1].interrupted is False
    lines = log.read_text().splitlines()
    assert len(lines) == len(rec.events)
    assert [json.loads(line)["type"] for line in lines] == kinds


@pytest.mark.parametrize("isolation", ["process", "spawn"])
def test_finished_run_carries_the_os_peak_rss_and_samples(
    tmp_path: Path, isolation: str, warm_executor: ProcessExecutor
) -> None:
    # A spawned child imports for seconds; a forked one starts training at once,
    # so it trains long enough for the same number of samples.
    params = tiny() if isolation == "spawn" else tiny(samples=200, epochs=3)
    executor = warm_executor if isolation == "process" else None  # spawn: a fresh interpreter
    sup, rec = run_session(
        [RunSpec("default.qubit", "backprop", params)], interval=0.05, isolation=isolation,
        executor=executor,
    )
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished)
    samples = rec.of("sample", run_id)
    # how many depends on the machine's speed; the comparisons below need one reading
    assert samples
    sampled_peak = max(s.peak_rss for s in samples)
    # ru_maxrss of the reaped child: the OS's figure.  The kernel's high-water mark
    # trails its batched per-CPU RSS counters by a few pages, so allow 1 %.
    assert sampled_peak > 50 * 2**20
    assert fin.peak_rss >= 0.99 * sampled_peak
    assert fin.peak_threads >= max(s.peak_threads for s in samples) >= 1
    assert all(len(s.percpu) == psutil.cpu_count() for s in samples)
    # the child really imported torch (spawn) or trained for a while (forked)
    assert samples[-1].cpu_s > (0.5 if isolation == "spawn" else 0.2)
    started = rec.of("run_started", run_id)[0]
    assert started.pid != 0 and started.resolved_diff_method == "backprop"
    # run_launched names the same child as soon as it exists, before its imports
    launched = rec.of("run_launched", run_id)[0]
    assert launched.pid == started.pid and launched.isolation == isolation
    assert rec.events.index(launched) < rec.events.index(started)
    if isolation == "spawn":
        assert any(rec.events.index(s) < rec.events.index(started) for s in samples)
    # the terminal event comes after every sample of the run
    assert rec.events.index(fin) > rec.events.index(samples[-1])


def test_segfault_is_a_crash_with_the_signal_name(warm_executor: ProcessExecutor) -> None:
    specs = [RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:segfault"))]
    sup, rec = run_session(specs, executor=warm_executor)
    crash = rec.terminal(sup.specs[0].run_id)
    assert isinstance(crash, ev.RunCrashed)
    assert crash.signal == "SIGSEGV"
    assert crash.exit_code is None
    # faulthandler's report of where it died is in the captured stderr
    assert "Segmentation fault" in crash.stderr_tail
    assert "faulty.py" in crash.stderr_tail


@pytest.mark.parametrize(("workload", "signal_name", "exit_code"),
                         [("exits", None, 3), ("killed", "SIGKILL", None)])
def test_exit_and_sigkill_are_crashes_and_the_next_run_goes_on(
    warm_executor: ProcessExecutor, workload: str, signal_name: str | None, exit_code: int | None
) -> None:
    specs = [RunSpec("default.qubit", "backprop", tiny(workload=f"workloads.faulty:{workload}")),
             RunSpec("default.qubit", "backprop", tiny())]
    sup, rec = run_session(specs, executor=warm_executor)
    crash = rec.terminal(sup.specs[0].run_id)
    assert isinstance(crash, ev.RunCrashed)
    assert (crash.signal, crash.exit_code) == (signal_name, exit_code)
    assert isinstance(rec.terminal(sup.specs[1].run_id), ev.RunFinished)
    assert_no_children()


def test_timeout_stops_a_run_that_hangs(warm_executor: ProcessExecutor) -> None:
    clock = OffsetClock()
    spec = RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs"),
                   timeout_s=600.0)
    sup, rec, worker = start_session([spec], executor=warm_executor, clock=clock)
    run_id = sup.specs[0].run_id
    pid = rec.wait_for("run_started", run_id).pid
    assert rec.of("run_timed_out", run_id) == []
    clock.offset += 600.0  # the timeout passes on the supervisor's clock
    out = rec.wait_for("run_timed_out", run_id, timeout=DEADLINE_S)
    worker.join(DEADLINE_S)
    assert not worker.is_alive()
    assert out.timeout_s == 600.0
    assert rec.terminal(run_id) is out
    assert not alive(pid)


def test_cancel_mid_training_ends_the_child(warm_executor: ProcessExecutor) -> None:
    """The run is cancelled and its child is gone; how fast is benchmarks/cancel_latency.py."""
    specs = [
        RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:slow", epochs=50)),
        RunSpec("default.qubit", "backprop", tiny()),
    ]
    sup, rec, worker = start_session(specs, executor=warm_executor)
    first, second = (s.run_id for s in sup.specs)
    rec.wait_for("batch", first)
    pid = rec.of("run_started", first)[0].pid
    assert psutil.pid_exists(pid)
    sup.cancel(first)
    rec.wait_for("run_cancelled", first, timeout=DEADLINE_S)
    assert not alive(pid)
    # cancelling one run does not end the session: the next run trains
    rec.wait_for("run_finished", second)
    worker.join(30)
    assert not worker.is_alive()
    assert rec.events[-1].type == "session_finished" and rec.events[-1].interrupted is False


def test_cancel_all_skips_queued_runs_and_marks_the_session_interrupted(
    warm_executor: ProcessExecutor,
) -> None:
    params = tiny(workload="workloads.faulty:slow", epochs=50)
    specs = [RunSpec("default.qubit", "backprop", params, repeat_index=i) for i in range(3)]
    sup, rec, worker = start_session(specs, executor=warm_executor, kill_grace_s=0.5)
    ids = [s.run_id for s in sup.specs]
    rec.wait_for("run_started", ids[0])
    sup.cancel_all()
    worker.join(DEADLINE_S)
    assert not worker.is_alive()
    assert [rec.terminal(r).type for r in ids] == ["run_cancelled"] * 3
    assert "not started" in rec.terminal(ids[2]).reason
    assert rec.events[-1].interrupted is True
    assert rec.of("run_started", ids[1]) == []


def test_thread_isolation_runs_in_this_process() -> None:
    specs = [RunSpec("default.qubit", "backprop", tiny())]
    sup, rec = run_session(specs, isolation="thread", interval=0.05)
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished)
    started = rec.of("run_started", run_id)[0]
    assert started.pid == psutil.Process().pid
    assert fin.peak_rss > 0  # from the sampler of this process
    assert rec.of("sample", run_id)


def test_interval_can_change_while_running(warm_executor: ProcessExecutor) -> None:
    specs = [RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs"))]
    sup, rec, worker = start_session(specs, executor=warm_executor, interval=10.0)
    run_id = sup.specs[0].run_id
    rec.wait_for("sample", run_id)
    sup.set_interval(0.02)
    assert sup.interval == 0.02
    wait_until(lambda: len(rec.of("sample", run_id)) >= 11, "10 samples at the new interval")
    sup.cancel(run_id)
    worker.join(DEADLINE_S)
    assert not worker.is_alive()
    first, second = rec.of("sample", run_id)[:2]
    # the sampler did not sit out the old 10 s interval: the change took effect at once
    assert second.wall_s - first.wall_s < 10.0


def test_signal_names() -> None:
    from qtui.engine.process_executor import _signal_name

    assert _signal_name(signal.SIGKILL) == "SIGKILL"
    assert _signal_name(999) == "signal 999"


def test_gpu_figures_reach_samples_and_run_finished(
    warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake NVML (as ``import pynvml`` finds it) that puts 1.5 GiB of the run's child
    on GPU 0: samples carry the per-GPU figures, run_finished the mean and the peak."""
    from test_sampler import FakeNvml

    def procs(i: int) -> list[object]:
        if i != 0:
            return []
        mine = [p.pid for p in psutil.Process().children(recursive=True)]
        return [SimpleNamespace(pid=pid, usedGpuMemory=3 * 2**29) for pid in mine]

    nv = FakeNvml(2, procs)
    nv.util = [60.0, 0.0]
    monkeypatch.setitem(sys.modules, "pynvml", nv)
    sup, rec = run_session(
        [RunSpec("default.qubit", "backprop", tiny())], executor=warm_executor, interval=0.05
    )
    run_id = sup.specs[0].run_id
    samples = rec.of("sample", run_id)
    assert samples and all(s.gpu_util == [60.0, 0.0] for s in samples)
    assert all(s.gpu_mem_total == [80 * 2**30] * 2 for s in samples)
    assert {s.run_gpu_mem for s in samples} == {3 * 2**29}
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished)
    assert fin.gpu_util_mean == 60.0  # the GPU the run is on, not the idle one
    assert fin.gpu_mem_peak == 3 * 2**29 and fin.gpu_mem_scope == "run"
    assert nv.inits == 1  # NVML initialised once, not per tick


def test_without_a_gpu_run_finished_has_no_gpu_figures(
    warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` fails: no library
    sup, rec = run_session([RunSpec("default.qubit", "backprop", tiny())], executor=warm_executor)
    fin = rec.terminal(sup.specs[0].run_id)
    assert isinstance(fin, ev.RunFinished)
    assert (fin.gpu_util_mean, fin.gpu_mem_peak, fin.gpu_mem_scope) == (None, None, "")
