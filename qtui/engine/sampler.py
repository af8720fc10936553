"""Resource sampler: reads a run's process from outside it with psutil.

It runs in the supervisor (never in the child), so what it measures is not
disturbed by the measurement, and it keeps working while the child is stuck
in native code.  Each tick emits one ``qtui.events.Sample``: system per-core
CPU %, the process's RSS and the highest RSS seen, its thread count and peak,
its CPU seconds (its own plus those of its children, live and reaped) and the
cores it kept busy over the last interval.

Cost matters (the target is under 1 % of one core at 10 Hz), so a tick reads
only ``/proc/stat`` and the process's own numbers.  On Linux those come from one
``pread`` of ``/proc/<pid>/stat`` on a descriptor kept open (RSS, threads and
CPU times are all in that one line: ~10 µs against ~200 µs for psutil's
``oneshot()`` over three files; the open descriptor also refers to this very
process, so a recycled pid can never be misread).  Elsewhere psutil's
``Process.oneshot()`` is used.  Per-core CPU comes from a ``pread`` of
``/proc/stat`` parsed by hand (psutil's parse costs twice as much).  The scan for live grandchildren (their CPU
counts too) runs every ``children_every`` seconds only.  Per-core CPU % is computed from this
sampler's own previous reading rather than ``psutil.cpu_percent()``, whose
"since the last call" state is global to the process and would be disturbed
by any other caller (the TUI, for one).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from qtui.events import Sample

DEFAULT_INTERVAL = 0.1
MIN_INTERVAL = 0.01
MAX_INTERVAL = 10.0


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


class Sampler:
    """Samples one process on a daemon thread until ``stop()`` or until it is gone.

    ``emit`` is called from the sampler's thread.  ``t0`` is the
    ``time.monotonic()`` of the process's spawn (``wall_s`` counts from it).
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
    ) -> None:
        self.pid = pid
        self.run_id = run_id
        self._emit = emit
        self._interval = _clamp(interval)
        self._t0 = time.monotonic() if t0 is None else t0
        self._children_every = children_every
        self._proc = psutil.Process(pid)
        self._stat: _ProcStat | None = None
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):
                self._stat = _ProcStat(pid)
        self._percpu = PerCpu()
        self._children: list[psutil.Process] = []
        self._children_at = 0.0
        self._last_cpu: float | None = None
        self._last_wall = 0.0
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
            if self._stat is not None:
                self._stat.close()
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
        now = time.monotonic()
        cpu += self._live_children_cpu(now)
        wall = now - self._t0
        if self._last_cpu is None or wall <= self._last_wall:
            cores = 0.0
        else:
            cores = max(0.0, (cpu - self._last_cpu) / (wall - self._last_wall))
        self._last_cpu, self._last_wall = cpu, wall
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_threads = max(self.peak_threads, threads)
        sample = Sample(
            run_id=self.run_id,
            percpu=self._percpu.read(),
            rss=rss,
            peak_rss=self.peak_rss,
            threads=threads,
            peak_threads=self.peak_threads,
            cpu_s=round(cpu, 4),
            wall_s=round(wall, 4),
            cores_in_use=round(cores, 3),
        )
        self.samples += 1
        self.last = sample
        if not self._stopped.is_set():
            self._emit(sample)
        return True

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
