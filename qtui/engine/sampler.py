"""Resource sampler: reads a run's process from outside it (``/proc``, and NVML for GPUs).

It runs in the supervisor (never in the child), so what it measures is not
disturbed by the measurement, and it keeps working while the child is stuck
in native code.  Each tick emits one ``qtui.core.events.Sample``: system per-core
CPU %, the process's RSS and the highest RSS seen, its thread count and peak,
its CPU seconds (its own plus those of its children, live and reaped), the
cores it kept busy over the last interval, and, where NVML finds a GPU,
per-GPU utilisation and memory plus the GPU memory NVML attributes to the
run's processes.

Cost matters (the target is under 1 % of one core at 10 Hz), so a tick reads
only ``/proc/stat`` and the process's own numbers.  On Linux those come from one
``pread`` of ``/proc/<pid>/stat`` on a descriptor kept open (RSS, threads and
CPU times are all in that one line: ~10 µs against ~200 µs for psutil's
``oneshot()`` over three files; the open descriptor also refers to this very
process, so a recycled pid can never be misread), and per-core CPU from a
``pread`` of ``/proc/stat`` parsed by hand (psutil's parse costs twice as much).
psutil is used only for the live descendants' CPU times and, off Linux, for
everything.  The scan for live descendants (``/proc/<pid>/task/*/children``;
their CPU counts too) runs every ``children_every`` seconds only, and NVML is
read every ``gpu_every`` seconds only (its utilisation is itself an average
over up to a second); samples in between repeat the last GPU reading.  NVML
(``pynvml`` from nvidia-ml-py) is imported and initialised lazily, once per
process, on the sampler's thread; no library, no driver or no GPU means no GPU
fields, never an error.  Per-core CPU % is computed from this sampler's own
previous reading rather than ``psutil.cpu_percent()``, whose "since the last
call" state is global to the process and would be disturbed by any other
caller (the TUI, for one).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import psutil

from qtui.core.events import Sample

DEFAULT_INTERVAL = 0.1
MIN_INTERVAL = 0.01
MAX_INTERVAL = 10.0
#: Seconds between NVML readings (the GPU panel and NVML's own averaging use ~1 s).
GPU_EVERY = 1.0


def _busy_total(t: Any) -> tuple[float, float]:
    """(busy, total) seconds of one CPU, as psutil.cpu_percent counts them."""
    total = sum(t)
    # guest time is already counted in user/nice on Linux
    total -= getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)
    idle = t.idle + getattr(t, "iowait", 0.0)
    return total - idle, total


def _proc_stat_percpu(fd: int) -> list[tuple[float, float]]:
    """(busy, total) ticks per CPU from /proc/stat (Linux), without psutil's namedtuples.

    Fields: user nice system idle iowait irq softirq steal [guest guest_nice];
    guest time is already inside user/nice, so only the first eight are summed.
    """
    out: list[tuple[float, float]] = []
    for line in os.pread(fd, 1 << 16, 0).split(b"\n")[1:]:
        if not line.startswith(b"cpu"):
            break
        v = line.split()
        total = float(sum(map(int, v[1:9])))
        out.append((total - int(v[4]) - int(v[5]), total))
    return out


class PerCpu:
    """System per-core CPU %, from deltas of this object's own readings."""

    def __init__(self) -> None:
        self._fd: int | None = None
        if sys.platform.startswith("linux"):
            try:
                self._fd = os.open("/proc/stat", os.O_RDONLY)
                _proc_stat_percpu(self._fd)
            except (OSError, ValueError, IndexError):
                self.close()
        self._last = self._times()

    def _times(self) -> list[tuple[float, float]]:
        if self._fd is not None:
            try:
                return _proc_stat_percpu(self._fd)
            except (OSError, ValueError, IndexError):
                self.close()
        return [_busy_total(t) for t in psutil.cpu_times(percpu=True)]

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def read(self) -> list[float]:
        now = self._times()
        out = []
        for (b0, t0), (b1, t1) in zip(self._last, now, strict=False):
            dt = t1 - t0
            out.append(round(max(0.0, min(100.0, 100.0 * (b1 - b0) / dt)), 1) if dt > 0 else 0.0)
        self._last = now
        return out


class _ProcStat:
    """Linux fast path: RSS, threads and CPU seconds from one read of /proc/<pid>/stat."""

    _TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    _PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def __init__(self, pid: int) -> None:
        self.fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)

    def read(self) -> tuple[int, int, float] | None:
        """(rss bytes, threads, cpu seconds incl. reaped children), None once it exited."""
        try:
            data = os.pread(self.fd, 4096, 0)
        except OSError:  # ESRCH: the process is gone
            return None
        # the command name is in parentheses and may hold spaces: split after it
        fields = data[data.rindex(b")") + 2 :].split()
        if not fields or fields[0] in (b"Z", b"X"):
            return None
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        threads = int(fields[17])
        rss = int(fields[21]) * self._PAGE
        return rss, threads, (utime + stime + cutime + cstime) / self._TICK

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


# --- GPUs (NVML) ----------------------------------------------------------------

_NVML_LOCK = threading.Lock()
_NVML_STATE: tuple[Any, Any | None] | None = None  # (pynvml module seen, usable module or None)


def nvml() -> Any | None:
    """``pynvml``, initialised once per process; None without library, driver or GPU.

    Re-checked when ``sys.modules["pynvml"]`` is another module (tests inject a fake).
    """
    global _NVML_STATE
    if "pynvml" not in sys.modules and not _nvidia_device_nodes():
        return None  # no driver to reach: loading pynvml (2.4 MB) only to hear it fail
    try:
        import pynvml  # nvidia-ml-py installs this module name
    except ImportError:  # not installed: no GPU figures
        return None
    with _NVML_LOCK:
        if _NVML_STATE is not None and _NVML_STATE[0] is pynvml:
            return _NVML_STATE[1]
        usable: Any | None = None
        try:
            pynvml.nvmlInit()
            if int(pynvml.nvmlDeviceGetCount()) > 0:
                usable = pynvml
        except nvml_errors(pynvml):  # no driver / no library / no GPU
            usable = None
        _NVML_STATE = (pynvml, usable)
        return usable


def _nvidia_device_nodes() -> bool:
    """Whether the kernel shows an NVIDIA driver: /dev/nvidia* (Linux), /dev/dxg (WSL2)."""
    import glob

    return bool(glob.glob("/dev/nvidia*")) or os.path.exists("/dev/dxg")


def nvml_errors(nv: Any) -> tuple[type[Exception], ...]:
    """What an NVML call raises when the driver cannot answer: the module's
    ``NVMLError`` (pynvml's, or a test fake's own), and OSError (no library)."""
    err = getattr(nv, "NVMLError", None)
    if isinstance(err, type) and issubclass(err, Exception):
        return (err, OSError)
    return (OSError,)


def _pid_visible(pid: int) -> bool:
    if os.path.isdir("/proc"):
        return os.path.exists(f"/proc/{pid}")
    return psutil.pid_exists(pid)


class GpuReading:
    """One NVML reading of every GPU, and what it attributes to the run's processes."""

    __slots__ = ("util", "mem_used", "mem_total", "run_mem", "run_gpus")

    def __init__(
        self,
        util: list[float],
        mem_used: list[int],
        mem_total: list[int],
        run_mem: int | None,
        run_gpus: list[int],
    ) -> None:
        self.util = util  # % per GPU; NaN where NVML cannot say
        self.mem_used = mem_used  # bytes per GPU
        self.mem_total = mem_total  # bytes per GPU; 0 where NVML cannot say
        self.run_mem = run_mem  # bytes held by the run's processes; None: not attributable
        self.run_gpus = run_gpus  # indices of the GPUs the run holds memory on


class GpuReader:
    """Reads utilisation and memory of every GPU through an initialised NVML module."""

    def __init__(self, nv: Any) -> None:
        self.nv = nv
        self.errors = nvml_errors(nv)
        self.handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(int(nv.nvmlDeviceGetCount()))]

    def read(self, pids: Iterable[int]) -> GpuReading:
        nv, errors = self.nv, self.errors
        ours = set(pids)
        util: list[float] = []
        used: list[int] = []
        total: list[int] = []
        run_mem: int | None = 0
        run_gpus: list[int] = []
        foreign = False  # NVML lists a pid this process cannot see (another pid namespace)
        for i, h in enumerate(self.handles):
            try:
                util.append(float(nv.nvmlDeviceGetUtilizationRates(h).gpu))
            except errors:  # e.g. not supported on a MIG instance
                util.append(math.nan)
            try:
                mem = nv.nvmlDeviceGetMemoryInfo(h)
                used.append(int(mem.used))
                total.append(int(mem.total))
            except errors:  # NVML cannot say: 0, as for a GPU it cannot read
                used.append(0)
                total.append(0)
            if run_mem is None:
                continue
            try:
                procs = nv.nvmlDeviceGetComputeRunningProcesses(h)
            except errors:  # not supported: attribution impossible
                run_mem = None
                continue
            on_this = 0
            for p in procs:
                if p.pid in ours:
                    if p.usedGpuMemory is None:  # NVML cannot say (WDDM, some containers)
                        run_mem = None
                        break
                    on_this += int(p.usedGpuMemory)
                elif not foreign and not _pid_visible(p.pid):
                    foreign = True
            if run_mem is not None and on_this:
                run_mem += on_this
                run_gpus.append(i)
        if run_mem == 0 and foreign:
            run_mem = None  # none of ours seen, but NVML's pids are not ours to compare
        return GpuReading(util, used, total, run_mem, run_gpus)


class ContentionStats:
    """How many cores *other* processes kept busy while the run trained.

    Each reading: the node's busy cores (the sum of ``/proc/stat``'s per-core
    busy fractions over the interval) minus the run's own cores in use (its
    process tree's CPU time over the same interval), floored at 0.  Counted
    only once training has started (``training()``, called when the run's
    ``run_started`` passes: imports and model building are not measured).

    A run is **contended** when the mean reaches ``contended_threshold(n)``:
    half a core, or a tenth of the node's logical CPUs if that is more.  Half
    a core of a neighbour moved timings by far more than the noise on the
    2-core machines here (lightning.qubit+adjoint took 1.1 s to 40 s with
    other load); on a 128-core node a tenth of the node is a busy neighbour,
    a few stray cores are not.
    """

    def __init__(self) -> None:
        self.active = False
        self.n = 0
        self._sum = 0.0
        self.max = 0.0

    def training(self) -> None:
        self.active = True

    def add(self, percpu: list[float], run_cores: float) -> None:
        if not self.active or not percpu:
            return
        busy = sum(p for p in percpu if p == p) / 100.0
        others = max(0.0, busy - run_cores)
        self.n += 1
        self._sum += others
        self.max = max(self.max, others)

    @property
    def mean(self) -> float | None:
        return round(self._sum / self.n, 3) if self.n else None


def contended_threshold(n_cpus: int) -> float:
    """Mean cores used by others from which a run counts as contended."""
    return max(0.5, 0.1 * max(1, n_cpus))


class GpuStats:
    """Running figures over a run's GPU readings, for ``run_finished``.

    Utilisation: the mean over readings of the GPUs the run holds memory on,
    or of every GPU when attribution is impossible or the run holds none.
    Memory peak: of the run's own GPU memory when every reading could be
    attributed (scope "run"), else of the memory used on all GPUs ("device").
    """

    def __init__(self) -> None:
        self.readings = 0
        self._util_sum = 0.0
        self._util_n = 0
        self._run_peak = 0
        self._device_peak = 0
        self._all_attributed = True

    def add(self, r: GpuReading) -> None:
        self.readings += 1
        gpus = r.run_gpus or range(len(r.util))
        for i in gpus:
            u = r.util[i]
            if not math.isnan(u):
                self._util_sum += u
                self._util_n += 1
        self._device_peak = max(self._device_peak, sum(r.mem_used))
        if r.run_mem is None:
            self._all_attributed = False
        else:
            self._run_peak = max(self._run_peak, r.run_mem)

    @property
    def util_mean(self) -> float | None:
        return round(self._util_sum / self._util_n, 2) if self._util_n else None

    @property
    def mem_scope(self) -> str:
        if not self.readings:
            return ""
        return "run" if self._all_attributed else "device"

    @property
    def mem_peak(self) -> int | None:
        scope = self.mem_scope
        if not scope:
            return None
        return self._run_peak if scope == "run" else self._device_peak


_NO_GPU = object()  # Sampler._gpu once NVML turned out unusable


class Sampler:
    """Samples one process on a daemon thread until ``stop()`` or until it is gone.

    ``emit`` is called from the sampler's thread.  ``t0`` is the ``clock()``
    of the process's spawn (``wall_s`` counts from it).  ``clock`` (monotonic
    seconds) times ``wall_s``, ``cores_in_use`` and the children/NVML rescans;
    a test passes a virtual one and calls ``sample_once`` itself, so what a
    reading says does not depend on how busy the machine is.
    """

    def __init__(
        self,
        pid: int,
        run_id: str,
        emit: Callable[[Sample], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        t0: float | None = None,
        children_every: float = 2.0,
        gpu_every: float = GPU_EVERY,
        nvml_module: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pid = pid
        self.run_id = run_id
        self._emit = emit
        self._interval = _clamp(interval)
        self._clock = clock
        self._t0 = clock() if t0 is None else t0
        self._children_every = children_every
        self._proc = psutil.Process(pid)
        self._stat: _ProcStat | None = None
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):
                self._stat = _ProcStat(pid)
        self._percpu = PerCpu()
        self.contention = ContentionStats()
        self._children: list[psutil.Process] = []
        self._children_at = 0.0
        self._last_cpu: float | None = None
        self._last_wall = 0.0
        # GPUs: ``nvml_module`` None finds pynvml (once per process), False turns GPUs
        # off, a module is used as pynvml (a test's fake).  Opened on the first tick.
        self._nvml_module = nvml_module
        self._gpu: Any = None  # GpuReader, _NO_GPU, or None before the first tick
        self._gpu_every = gpu_every
        self._gpu_at = -math.inf
        self._gpu_last: GpuReading | None = None
        self.gpu = GpuStats()
        self.peak_rss = 0
        self.peak_threads = 0
        self.samples = 0
        self.last: Sample | None = None
        self._stopped = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"qtui-sampler-{pid}", daemon=True)

    # control ------------------------------------------------------------------
    @property
    def interval(self) -> float:
        return self._interval

    def set_interval(self, seconds: float) -> None:
        """Change the rate while running; takes effect at once."""
        self._interval = _clamp(seconds)
        self._wake.set()

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and wait for the thread (safe to call more than once)."""
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # sampling -----------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while not self._stopped.is_set():
                if not self.sample_once():
                    return
                self._wake.wait(self._interval)
                self._wake.clear()
        finally:
            self.close()

    def close(self) -> None:
        """Close the descriptors (the thread does at its end; a caller of ``sample_once`` must)."""
        if self._stat is not None:
            self._stat.close()
            self._stat = None  # never closed twice: the number may belong to another file by then
        self._percpu.close()

    def _read(self) -> tuple[int, int, float] | None:
        if self._stat is not None:
            return self._stat.read()
        try:
            with self._proc.oneshot():
                rss = int(self._proc.memory_info().rss)
                threads = int(self._proc.num_threads())
                ct = self._proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return None
        return rss, threads, ct.user + ct.system + ct.children_user + ct.children_system

    def sample_once(self) -> bool:
        """Take one reading and emit it; False once the process is gone."""
        reading = self._read()
        if reading is None:
            return False
        rss, threads, cpu = reading
        now = self._clock()
        cpu += self._live_children_cpu(now)
        wall = now - self._t0
        if self._last_cpu is None or wall <= self._last_wall:
            cores = 0.0
        else:
            cores = max(0.0, (cpu - self._last_cpu) / (wall - self._last_wall))
        self._last_cpu, self._last_wall = cpu, wall
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_threads = max(self.peak_threads, threads)
        gpu = self._gpu_reading(now)
        extra: dict[str, Any] = {}
        if gpu is not None:
            extra = {
                "gpu_util": gpu.util,
                "gpu_mem_used": gpu.mem_used,
                "gpu_mem_total": gpu.mem_total,
                "run_gpu_mem": gpu.run_mem,
            }
        percpu = self._percpu.read()
        self.contention.add(percpu, cores)
        sample = Sample(
            run_id=self.run_id,
            percpu=percpu,
            rss=rss,
            peak_rss=self.peak_rss,
            threads=threads,
            peak_threads=self.peak_threads,
            cpu_s=round(cpu, 4),
            wall_s=round(wall, 4),
            cores_in_use=round(cores, 3),
            **extra,
        )
        self.samples += 1
        self.last = sample
        if not self._stopped.is_set():
            self._emit(sample)
        return True

    def _gpu_reading(self, now: float) -> GpuReading | None:
        """The latest NVML reading (taken now if ``gpu_every`` has passed); None: no GPU."""
        if self._gpu is _NO_GPU:
            return None
        if self._gpu is None:
            self._gpu = _open_gpu(self._nvml_module)
            if self._gpu is _NO_GPU:
                return None
        if now - self._gpu_at >= self._gpu_every:
            self._gpu_at = now
            pids = [self.pid, *(c.pid for c in self._children)]
            try:
                self._gpu_last = self._gpu.read(pids)
            except self._gpu.errors:  # NVML went away (driver reset): stop asking
                self._gpu = _NO_GPU
                self._gpu_last = None
                return None
            self.gpu.add(self._gpu_last)
        return self._gpu_last

    def _live_children_cpu(self, now: float) -> float:
        """CPU seconds of the process's live descendants (rescanned now and then)."""
        if now - self._children_at >= self._children_every:
            self._children_at = now
            self._children = []
            for cpid in descendants(self.pid):
                with contextlib.suppress(psutil.Error):
                    self._children.append(psutil.Process(cpid))
        total = 0.0
        alive = []
        for child in self._children:
            try:
                t = child.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
            alive.append(child)
        self._children = alive
        return total


def _open_gpu(module: Any) -> Any:
    """A ``GpuReader`` for ``module`` (None: find pynvml; False: none), else ``_NO_GPU``."""
    if module is False:
        return _NO_GPU
    nv = nvml() if module is None else module
    if nv is None:
        return _NO_GPU
    try:
        if module is not None:
            nv.nvmlInit()
        reader = GpuReader(nv)
    except nvml_errors(nv):  # no driver / no GPU: no GPU figures
        return _NO_GPU
    return reader if reader.handles else _NO_GPU


def descendants(pid: int) -> list[int]:
    """Pids of a process's live descendants.

    Linux: from ``/proc/<pid>/task/<tid>/children`` (a few small reads, instead
    of psutil's scan of every process on the machine, ~4 ms on a quiet box).
    """
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        try:
            return [p.pid for p in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tids = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", "rb") as f:
                    kids = [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                continue
            for k in kids:
                if k not in found:
                    found.append(k)
                    todo.append(k)
    return found


def _clamp(seconds: float) -> float:
    return min(MAX_INTERVAL, max(MIN_INTERVAL, float(seconds)))
