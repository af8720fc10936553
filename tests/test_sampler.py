"""The sampler reads a real busy process from outside it.

What a reading says (CPU seconds, cores in use, GPU figures) is checked with a
virtual clock and ``sample_once`` called by the test: the process and ``/proc``
are real, the wall time between readings is the test's.  The sampling thread
is checked by conditions with a generous deadline, never by counts in a fixed
time (a busy machine gives fewer, a fast one more).
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from engine_helpers import assert_no_children

from qtui.core.events import Sample, decode, encoded
from qtui.engine.sampler import PerCpu, Sampler

BUSY = "while True: pass"
PARENT_OF_BUSY = (
    "import subprocess, sys; "
    f"subprocess.Popen([sys.executable, '-c', {BUSY!r}]).wait()"
)


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", BUSY])
    yield proc
    proc.kill()
    proc.wait()


DEADLINE_S = 60.0  # for a condition to hold: generous, a loaded machine is slow, not wrong


class Clock:
    """Virtual monotonic seconds (binary-exact steps: no rounding at a boundary)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_until(cond: Callable[[], bool], what: str) -> None:
    """Poll ``cond`` until it holds; fail naming ``what`` after ``DEADLINE_S``."""
    end = time.monotonic() + DEADLINE_S
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"not within {DEADLINE_S:.0f} s: {what}")
        time.sleep(0.01)


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants, read by psutil (not the sampler)."""
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    return sum(t.user + t.system for t in (p.cpu_times() for p in procs))


def ticks(s: Sampler, clock: Clock, n: int, step: float = 0.125) -> None:
    """``n`` readings, ``step`` virtual seconds apart (the test is the sampler's thread)."""
    for _ in range(n):
        clock.now += step
        assert s.sample_once()


def test_samples_a_busy_process(busy: subprocess.Popen[bytes]) -> None:
    clock = Clock()
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, clock=clock, t0=clock.now)
    try:
        assert s.sample_once()
        first = got[0]
        # the busy process runs on: at least 0.2 s more CPU, however long that takes
        wait_until(lambda: tree_cpu(busy.pid) > first.cpu_s + 0.2, "0.2 s of CPU")
        clock.now += 2.0
        assert s.sample_once()
    finally:
        s.close()
    last = got[-1]
    assert first.cores_in_use == 0.0  # no previous reading to compare with
    assert (first.wall_s, last.wall_s) == (0.0, 2.0)
    assert last.cpu_s > first.cpu_s + 0.2
    # cores in use: the CPU seconds between the readings over the wall seconds between them
    assert last.cores_in_use == pytest.approx((last.cpu_s - first.cpu_s) / 2.0, abs=1e-3)
    assert last.run_id == "t"
    assert len(last.percpu) == psutil.cpu_count()
    assert all(0.0 <= p <= 100.0 for p in last.percpu)
    assert last.rss > 1_000_000 and last.peak_rss >= last.rss
    assert last.threads >= 1 and last.peak_threads >= 1
    assert s.peak_rss == max(x.rss for x in got)


def test_the_thread_samples_at_its_interval_never_faster(busy: subprocess.Popen[bytes]) -> None:
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, interval=0.05).start()
    try:
        wait_until(lambda: len(got) >= 6, "6 samples")
    finally:
        s.stop()
    walls = [x.wall_s for x in got]
    # each wait is at least the interval (a busy machine only makes it longer)
    assert min(b - a for a, b in zip(walls, walls[1:], strict=False)) >= 0.05 - 1e-3, walls


def test_counts_cpu_of_the_process_children() -> None:
    proc = subprocess.Popen([sys.executable, "-c", PARENT_OF_BUSY])
    clock = Clock()
    got: list[Sample] = []
    try:
        wait_until(lambda: bool(psutil.Process(proc.pid).children()), "the busy child started")
        s = Sampler(proc.pid, "t", got.append, clock=clock, children_every=0.5)
        try:
            assert s.sample_once()
            # 0.45 s, so the figures below clear 0.3 whatever the sampler's rounding (it
            # read 0.3 cores, not more, once after waiting for exactly 0.3 s)
            wait_until(lambda: tree_cpu(proc.pid) > got[0].cpu_s + 0.45, "0.45 s of the child's CPU")
            clock.now += 1.0
            assert s.sample_once()
        finally:
            s.close()
    finally:
        for p in psutil.Process(proc.pid).children(recursive=True):
            p.kill()
        proc.kill()
        proc.wait()
    # the parent only waits: without its busy child counted, both are ~0
    assert got[-1].cpu_s - got[0].cpu_s > 0.3
    assert got[-1].cores_in_use > 0.3
    assert_no_children()


def test_stops_when_the_process_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    got: list[Sample] = []
    s = Sampler(proc.pid, "t", got.append, interval=0.05).start()
    proc.wait()  # reaped: the pid is gone
    s._thread.join(DEADLINE_S)
    assert not s._thread.is_alive()
    assert got
    s.stop()


def test_interval_changes_while_running(busy: subprocess.Popen[bytes]) -> None:
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, interval=10.0).start()
    try:
        wait_until(lambda: len(got) >= 1, "the first sample")
        s.set_interval(0.02)
        assert s.interval == 0.02
        wait_until(lambda: len(got) >= 11, "10 samples at the new interval")
    finally:
        s.stop()
    # the sampler did not sit out the old 10 s interval: the change took effect at once
    assert got[1].wall_s - got[0].wall_s < 10.0


def test_interval_is_clamped() -> None:
    s = Sampler(psutil.Process().pid, "t", lambda e: None, interval=0.0)
    assert s.interval == 0.01
    s.set_interval(1000)
    assert s.interval == 10.0


def test_stop_is_prompt_and_idempotent(busy: subprocess.Popen[bytes]) -> None:
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, interval=10.0).start()
    wait_until(lambda: bool(got), "the first sample")
    s.stop(timeout=5.0)  # wakes the thread: it does not sit out its 10 s interval
    s.stop()
    assert not s._thread.is_alive()


def test_percpu_is_independent_of_psutil_global_state() -> None:
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    t = threading.Thread(target=spin)
    pc = PerCpu()
    t.start()
    try:
        time.sleep(0.3)
        psutil.cpu_percent(percpu=True)  # another caller resets psutil's own baseline
        values = pc.read()
    finally:
        stop.set()
        t.join()
    assert len(values) == psutil.cpu_count()
    assert max(values) > 30.0  # the spinning thread kept a core busy over 0.3 s


def test_sampler_is_cheap(busy: subprocess.Popen[bytes]) -> None:
    """Three seconds of 10 Hz readings (children and NVML rescans included, on the
    virtual clock) cost well under 1 % of a core: CPU time of this thread, not wall."""
    clock = Clock()
    s = Sampler(busy.pid, "t", lambda e: None, clock=clock)
    try:
        t0 = time.thread_time()
        ticks(s, clock, 30, step=0.1)
        cpu = time.thread_time() - t0
    finally:
        s.close()
    assert cpu / 3.0 < 0.01, f"sampler used {cpu / 3.0:.2%} of a core"


# --- GPUs through NVML (a fake module: no GPU on the test machine) -------------------


class FakeNvmlError(Exception):
    """What the fake raises, as pynvml raises its ``NVMLError``."""


class FakeNvml(types.ModuleType):
    """pynvml's calls the sampler uses, for ``count`` GPUs of 80 GiB.

    ``procs(i)`` gives the compute processes on GPU ``i`` (pid, usedGpuMemory);
    ``util`` and ``used`` are per-GPU values, changed by the test as it likes.
    """

    def __init__(self, count: int, procs: Callable[[int], list[Any]] | None = None) -> None:
        super().__init__("pynvml")
        self.NVMLError = FakeNvmlError
        self.count = count
        self.util = [50.0] * count
        self.used = [2 * 2**30] * count
        self.procs = procs
        self.inits = 0

    def nvmlInit(self) -> None:  # noqa: N802 - NVML's names
        self.inits += 1

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return self.count

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:  # noqa: N802
        return types.SimpleNamespace(gpu=self.util[h])

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:  # noqa: N802
        return types.SimpleNamespace(used=self.used[h], total=80 * 2**30)

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> list[Any]:  # noqa: N802
        if self.procs is None:
            raise FakeNvmlError("NVML_ERROR_NOT_SUPPORTED")
        return self.procs(h)


def _proc(pid: int, used: int | None) -> Any:
    return types.SimpleNamespace(pid=pid, usedGpuMemory=used)


def test_gpu_figures_attributed_to_the_sampled_process(busy: subprocess.Popen[bytes]) -> None:
    # GPU 0 holds 1 GiB of the busy process plus another process; GPU 1 is not ours.
    other = psutil.Process().pid  # visible here, but not the sampled process
    nv = FakeNvml(2, lambda i: [_proc(busy.pid, 2**30), _proc(other, 5 * 2**30)] if i == 0 else [])
    nv.util = [80.0, 10.0]
    got: list[Sample] = []
    clock = Clock()
    s = Sampler(busy.pid, "t", got.append, gpu_every=0.25, nvml_module=nv, clock=clock)
    try:
        ticks(s, clock, 12)  # NVML read on every other reading
        nv.used = [6 * 2**30, 2**30]
        ticks(s, clock, 2)
    finally:
        s.close()
    last = got[-1]
    assert last.gpu_util == [80.0, 10.0]
    assert last.gpu_mem_total == [80 * 2**30] * 2
    assert last.run_gpu_mem == 2**30
    assert all(x.gpu_util for x in got)  # every sample carries the latest reading
    # run_finished figures: utilisation of the GPU the run is on, its own memory
    assert s.gpu.util_mean == 80.0
    assert s.gpu.mem_scope == "run" and s.gpu.mem_peak == 2**30
    assert nv.inits == 1


def test_gpu_memory_falls_back_to_the_device_when_nvml_cannot_attribute(
    busy: subprocess.Popen[bytes],
) -> None:
    nv = FakeNvml(1)  # the process query is "not supported"
    got: list[Sample] = []
    clock = Clock()
    s = Sampler(busy.pid, "t", got.append, gpu_every=0.125, nvml_module=nv, clock=clock)
    try:
        ticks(s, clock, 6)
        nv.used = [7 * 2**30]
        nv.util = [100.0]
        ticks(s, clock, 6)
    finally:
        s.close()
    assert got[0].gpu_mem_used == [2 * 2**30] and got[-1].gpu_mem_used == [7 * 2**30]
    assert all(x.run_gpu_mem is None for x in got)
    assert s.gpu.mem_scope == "device" and s.gpu.mem_peak == 7 * 2**30
    assert s.gpu.util_mean is not None and 50.0 < s.gpu.util_mean < 100.0


def test_pids_from_another_namespace_make_attribution_impossible(
    busy: subprocess.Popen[bytes],
) -> None:
    unseen = 2**22 + 17  # above pid_max's default: no such process here
    nv = FakeNvml(1, lambda i: [_proc(unseen, 2**30)])
    got: list[Sample] = []
    clock = Clock()
    s = Sampler(busy.pid, "t", got.append, gpu_every=0.125, nvml_module=nv, clock=clock)
    try:
        ticks(s, clock, 4)
    finally:
        s.close()
    assert got and all(x.run_gpu_mem is None for x in got)
    assert s.gpu.mem_scope == "device"


@pytest.mark.parametrize("module", [False, "no-gpu"])
def test_no_gpu_means_no_gpu_fields(busy: subprocess.Popen[bytes], module: Any) -> None:
    nv = FakeNvml(0) if module == "no-gpu" else False
    got: list[Sample] = []
    clock = Clock()
    s = Sampler(busy.pid, "t", got.append, nvml_module=nv, clock=clock)
    try:
        ticks(s, clock, 4, step=1.0)  # NVML asked on every reading (gpu_every is 1 s)
    finally:
        s.close()
    assert got
    assert all(x.gpu_util == [] and x.gpu_mem_used == [] and x.run_gpu_mem is None for x in got)
    assert s.gpu.mem_scope == "" and s.gpu.mem_peak is None and s.gpu.util_mean is None


def test_gpu_fields_survive_the_wire() -> None:
    s = Sample(
        run_id="r", percpu=[1.0], rss=1, peak_rss=1, threads=1, peak_threads=1,
        cpu_s=0.1, wall_s=0.1, cores_in_use=1.0,
        gpu_util=[12.5, math.nan], gpu_mem_used=[1, 2], gpu_mem_total=[3, 4], run_gpu_mem=5,
    )
    back, reason = decode(encoded(s))
    assert reason is None and isinstance(back, Sample)
    assert back.gpu_util[0] == 12.5 and math.isnan(back.gpu_util[1])
    assert back.gpu_mem_used == [1, 2] and back.run_gpu_mem == 5
    old, reason = decode(
        b'{"type":"sample","v":1,"t":1,"run_id":"r","percpu":[],"rss":0,"peak_rss":0,'
        b'"threads":1,"peak_threads":1,"cpu_s":0,"wall_s":0,"cores_in_use":0}'
    )
    assert reason is None and isinstance(old, Sample)
    assert old.gpu_util == [] and old.run_gpu_mem is None  # an old log still decodes


@pytest.mark.skipif(any(Path("/dev").glob("nvidia*")) or Path("/dev/dxg").exists(),
                    reason="this machine has NVIDIA device nodes: NVML is worth loading here")
def test_without_nvidia_device_nodes_nvml_is_not_loaded() -> None:
    """No /dev/nvidia* (nor WSL's /dev/dxg): no driver NVML could reach, so the sampler
    does not load pynvml (2.4 MB of the UI's RSS) only to hear it fail."""
    code = "import sys; from qtui.engine import sampler; print(sampler.nvml(), 'pynvml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["None", "False"], out.stdout + out.stderr
