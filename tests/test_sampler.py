"""The sampler reads a real busy process from outside it."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
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


def _collect(pid: int, seconds: float, **kw: float) -> tuple[Sampler, list[Sample]]:
    got: list[Sample] = []
    s = Sampler(pid, "t", got.append, **kw).start()
    time.sleep(seconds)
    s.stop()
    return s, got


def test_samples_a_busy_process(busy: subprocess.Popen[bytes]) -> None:
    s, got = _collect(busy.pid, 1.5, interval=0.1)
    assert 8 <= len(got) <= 20
    last = got[-1]
    assert last.run_id == "t"
    assert len(last.percpu) == psutil.cpu_count()
    assert all(0.0 <= p <= 100.0 for p in last.percpu)
    assert last.rss > 1_000_000 and last.peak_rss >= last.rss
    assert last.threads >= 1 and last.peak_threads >= 1
    assert last.cpu_s > 0.3
    # a spinning interpreter keeps about one core busy (the machine is shared: be lenient)
    mean_cores = sum(x.cores_in_use for x in got[2:]) / len(got[2:])
    assert 0.4 < mean_cores <= 1.3
    assert [x.wall_s for x in got] == sorted(x.wall_s for x in got)
    assert s.peak_rss == max(x.rss for x in got)


def test_counts_cpu_of_the_process_children() -> None:
    proc = subprocess.Popen([sys.executable, "-c", PARENT_OF_BUSY])
    try:
        time.sleep(0.5)
        _, got = _collect(proc.pid, 3.0, interval=0.1, children_every=0.5)
    finally:
        for p in psutil.Process(proc.pid).children(recursive=True):
            p.kill()
        proc.kill()
        proc.wait()
    # the parent only waits; its busy child's CPU is what shows
    assert got[-1].cpu_s > 1.0
    # without the children counted this is ~0; on a loaded 2-core machine the busy
    # child may get well under a full core, so only "clearly non-zero" is asserted
    assert max(x.cores_in_use for x in got) > 0.2
    assert_no_children()


def test_stops_when_the_process_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    got: list[Sample] = []
    s = Sampler(proc.pid, "t", got.append, interval=0.05).start()
    proc.wait()  # reaped: the pid is gone
    s._thread.join(2.0)
    assert not s._thread.is_alive()
    assert got
    s.stop()


def test_interval_changes_while_running(busy: subprocess.Popen[bytes]) -> None:
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, interval=1.0).start()
    time.sleep(1.2)
    n_slow = len(got)
    s.set_interval(0.02)
    assert s.interval == 0.02
    time.sleep(0.5)
    s.stop()
    assert n_slow <= 3
    assert len(got) - n_slow >= 10


def test_interval_is_clamped() -> None:
    s = Sampler(psutil.Process().pid, "t", lambda e: None, interval=0.0)
    assert s.interval == 0.01
    s.set_interval(1000)
    assert s.interval == 10.0


def test_stop_is_prompt_and_idempotent(busy: subprocess.Popen[bytes]) -> None:
    s = Sampler(busy.pid, "t", lambda e: None, interval=5.0).start()
    time.sleep(0.1)
    t0 = time.monotonic()
    s.stop()
    s.stop()
    assert time.monotonic() - t0 < 0.5


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
    """The sampler's own thread CPU at 10 Hz stays well under 1 % of a core."""
    cpu: list[float] = []
    s = Sampler(busy.pid, "t", lambda e: None, interval=0.1)
    inner = s._loop

    def timed_loop() -> None:
        t0 = time.thread_time()
        inner()
        cpu.append(time.thread_time() - t0)

    s._thread = threading.Thread(target=timed_loop, daemon=True)
    s.start()
    time.sleep(3.0)
    s.stop()
    assert cpu and cpu[0] / 3.0 < 0.01, f"sampler used {cpu[0] / 3.0:.2%} of a core"


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
    s = Sampler(busy.pid, "t", got.append, interval=0.05, gpu_every=0.1, nvml_module=nv).start()
    time.sleep(0.6)
    nv.used = [6 * 2**30, 2**30]
    s.stop()
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
    s = Sampler(busy.pid, "t", got.append, interval=0.05, gpu_every=0.05, nvml_module=nv).start()
    time.sleep(0.3)
    nv.used = [7 * 2**30]
    nv.util = [100.0]
    time.sleep(0.3)
    s.stop()
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
    s = Sampler(busy.pid, "t", got.append, interval=0.05, gpu_every=0.05, nvml_module=nv).start()
    time.sleep(0.2)
    s.stop()
    assert got and all(x.run_gpu_mem is None for x in got)
    assert s.gpu.mem_scope == "device"


@pytest.mark.parametrize("module", [False, "no-gpu"])
def test_no_gpu_means_no_gpu_fields(busy: subprocess.Popen[bytes], module: Any) -> None:
    nv = FakeNvml(0) if module == "no-gpu" else False
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, interval=0.05, nvml_module=nv).start()
    time.sleep(0.2)
    s.stop()
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
