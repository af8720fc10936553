"""The CPUs a run may use and how many others keep busy, read in the run's process at its start.

Read where the run runs (the child, forked or spawned, locally or on a
cluster node), because only there are its affinity mask, its cgroup and its
SLURM allocation the ones that bind it:

* ``os.sched_getaffinity(0)``: the CPUs the scheduler may put it on;
* the cgroup's CPU quota: cgroup v2 ``cpu.max`` (``quota period``, or ``max``:
  none), the smallest along the path from the process's cgroup to the root;
  cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: none); absent or
  unreadable: none;
* ``SLURM_CPUS_PER_TASK`` when set.

Usable CPUs are the smallest of those (a fractional quota rounded down, at
least 1).  Busy cores are what other processes kept busy on the usable CPUs
over the run's start: from ``/proc/stat`` through the sampler's ``PerCpu``,
minus this process's own CPU time over the same span (every thread of it:
what the run itself burns while it starts is not "others"), and minus qtui's own
processes' (``own_pids``: the app or the CLI, and the fork server a forked run
came from, named by qtui in ``QTUI_OWN_PIDS``; the run's parent where it is not
set, as on a cluster node): the app draws the Monitor tab as a run starts, about
half a core for a moment, and a run was flagged oversubscribed for it.  The window
(``StartWindow``) opens first thing in the run's process and closes when the
run reports its start (``run_started``, after its imports and its build), and
lasts at least ``WINDOW_S`` (~10 scheduler ticks per CPU): only a start
quicker than that waits for the rest.  So the figure costs the run's start
nothing: the window used to be a 0.1 s sleep before the build, 0.9 s of a
9-run sweep.  ``--threads auto`` is the exception: it must size every pool
before the imports or the build, so it reads the window at once (``WINDOW_S``
of waiting, the process idle) and sets every pool to
``qtui.core.cpu_fit.free_cpus`` of the two.  CPU a run's own subprocesses burn
while it starts counts as others' (a workload that starts helpers while it
builds is rare; the forum model starts none).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

from qtui.core import cpu_fit
from qtui.core.config import THREADS_AUTO
from qtui.core.events import CpuBudget

#: Seconds over which the busy cores are read: ~10 scheduler ticks per CPU.
WINDOW_S = 0.1
CGROUP_ROOT = Path("/sys/fs/cgroup")


def affinity() -> set[int] | None:
    """The CPUs this process may run on (None where the OS cannot say)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _v2_quota(text: str) -> float | None:
    """``"150000 100000"`` -> 1.5; ``"max 100000"`` -> None."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text().strip())
        period = int((folder / "cpu.cfs_period_us").read_text().strip())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_quota(proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota binding this process, in CPUs (None: no quota, or no cgroup to read)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    found: list[float] = []
    for line in lines:
        hier, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        rel = path.strip().lstrip("/")
        if hier == "0" and controllers == "":  # cgroup v2: the unified hierarchy
            folder = root / rel
            while True:
                try:
                    q = _v2_quota((folder / "cpu.max").read_text())
                except OSError:
                    q = None
                if q is not None:
                    found.append(q)
                if folder == root or root not in folder.parents:
                    break
                folder = folder.parent
        elif "cpu" in controllers.split(","):  # cgroup v1
            for name in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
                base = root / name
                if base.is_dir():
                    for folder in (base / rel, base):
                        q = _v1_quota(folder)
                        if q is not None:
                            found.append(q)
                    break
    return min(found) if found else None


def slurm_cpus(env: dict[str, str] | None = None) -> int | None:
    """``SLURM_CPUS_PER_TASK`` as a whole number, when set to one."""
    from qtui.core.env import env_int

    return env_int("SLURM_CPUS_PER_TASK", None, minimum=1, environ=env)


def usable_cpus(mask: set[int] | None, quota: float | None, slurm: int | None) -> int:
    """The smallest of the limits (a fractional quota rounded down), at least 1."""
    limits = [len(mask)] if mask else [os.cpu_count() or 1]
    if quota is not None:
        limits.append(math.floor(quota))
    if slurm is not None:
        limits.append(slurm)
    return max(1, min(limits))


#: qtui's own processes around a run (comma-separated pids), set where qtui starts it.
OWN_PIDS_ENV = "QTUI_OWN_PIDS"
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def own_pids(environ: Mapping[str, str] | None = None) -> list[int]:
    """qtui's processes whose CPU is not "others'" (``OWN_PIDS_ENV``; else the parent)."""
    env = os.environ if environ is None else environ
    text = env.get(OWN_PIDS_ENV)
    if text is None:
        return [os.getppid()]
    return [int(x) for x in text.split(",") if x.strip().isdigit()]


def _cpu_s(pids: list[int]) -> float:
    """User + system seconds of ``pids`` (their own threads, not reaped children: the fork
    server reaping a finished run would count that run); a pid gone or unreadable: 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / _TICK



class StartWindow:
    """Busy cores on ``mask``'s CPUs from now until ``close()``, at least ``window_s`` long.

    Opened at the run's start and closed when the run reports its start, so the
    window overlaps work the run does anyway; ``waited_s`` is what ``close()``
    had to wait for the window's minimum (0 when the start took longer)."""

    def __init__(self, mask: set[int] | None, window_s: float = WINDOW_S) -> None:
        from qtui.engine.sampler import PerCpu

        self.mask = mask
        self.window_s = window_s
        self.waited_s = 0.0
        self.qtui_cores = 0.0  # what qtui's own processes kept busy over the window
        self._qtui = own_pids()
        self._per_cpu = PerCpu()
        self._own0 = time.process_time()
        self._qtui0 = _cpu_s(self._qtui)
        self._wall0 = time.monotonic()

    def close(self) -> float:
        """The busy cores over the window (0 if unreadable); call once."""
        try:
            left = self.window_s - (time.monotonic() - self._wall0)
            if left > 0:
                self.waited_s = left
                time.sleep(left)  # the window's minimum itself: nothing to wait on
            percent = self._per_cpu.read()
            span = max(1e-9, time.monotonic() - self._wall0)
            own = (time.process_time() - self._own0) / span
            self.qtui_cores = round(max(0.0, _cpu_s(self._qtui) - self._qtui0) / span, 2)
        finally:
            self._per_cpu.close()
        # /proc/stat lists the online CPUs in order; index i is CPU i on every machine
        # without offline CPUs in the middle (where it is not, the sum is still close).
        picked = [p for i, p in enumerate(percent) if self.mask is None or i in self.mask]
        busy = sum(p for p in picked if p == p) / 100.0
        return round(max(0.0, busy - own - self.qtui_cores), 2)


class StartBudget:
    """The run's CPUs: the limits read at once, the busy cores over its start.

    ``budget()`` closes the window (at ``run_started``); for ``--threads auto``
    it was closed in the constructor, since the pools are sized before the build."""

    def __init__(self, threads: int = 0, window_s: float = WINDOW_S) -> None:
        self.threads = threads
        self.mask = affinity()
        self.quota = cgroup_quota()
        self.slurm = slurm_cpus()
        self.usable = usable_cpus(self.mask, self.quota, self.slurm)
        self.window = StartWindow(self.mask, window_s)
        self._budget: CpuBudget | None = None
        if threads == THREADS_AUTO:
            self.budget()

    def budget(self) -> CpuBudget:
        """The ``CpuBudget`` for ``run_started`` (the window is closed on the first call)."""
        if self._budget is None:
            busy = self.window.close()
            chosen = cpu_fit.free_cpus(self.usable, busy) if self.threads == THREADS_AUTO else None
            self._budget = CpuBudget(
                usable=self.usable,
                affinity=len(self.mask) if self.mask else None,
                quota=None if self.quota is None else round(self.quota, 3),
                slurm=self.slurm,
                busy=busy,
                threads=chosen,
            )
        return self._budget

    def pool_size(self) -> int:
        """The pool size to apply now: ``--threads N`` as given, auto's choice, 0 for the defaults."""
        if self.threads == THREADS_AUTO:
            return self.budget().threads or 1
        return max(0, self.threads)


def measure(threads: int = 0, window_s: float = WINDOW_S) -> CpuBudget:
    """This process's CPUs now, over ``window_s`` from now; for ``threads == THREADS_AUTO``
    the pool size chosen."""
    return StartBudget(threads, window_s).budget()


def pool_size(threads: int, budget: CpuBudget) -> int:
    """The pool size to apply: ``--threads N`` as given, auto's choice, 0 for the defaults."""
    if threads == THREADS_AUTO:
        return budget.threads or 1
    return max(0, threads)
