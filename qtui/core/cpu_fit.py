"""Do a run's thread pools fit the CPUs it could get?  The one rule, and its words.

A run records, in its own process at its start (``qtui.engine.cpu_budget``),
the CPUs it may use (the smallest of its affinity mask, its cgroup's
``cpu.max`` quota and ``SLURM_CPUS_PER_TASK``) and the cores other processes
kept busy then.  What is **free** is the usable CPUs minus the busy cores,
rounded to the nearest whole CPU, at least 1 (``free_cpus``): that is also
the pool size ``--threads auto`` picks.  A run whose largest thread pool
(threadpoolctl's sizes, ``Run.threadpools``) is larger than that is
**oversubscribed**: its threads take turns on fewer cores than they expect,
and OpenMP's spinning barriers turn that into time (lightning's pool at its
default size made a parameter-shift run 8-10x slower beside one busy core).

``fit`` decides it; the fold stores the answer in ``runs[].cpus`` and every
view (console, TUI, Markdown, HTML, CSV, JSON, history) renders those fields
and ``sentence``.  Pure Python, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from qtui.core import units
from qtui.core.summary_schema import Cpus


def free_cpus(usable: int, busy: float) -> int:
    """CPUs left to a run: ``usable`` minus ``busy`` cores, to the nearest CPU, at least 1."""
    left = usable - max(0.0, busy)
    return max(1, math.floor(left + 0.5))


def largest_pool(pools: Iterable[dict[str, Any]]) -> int | None:
    """The largest pool's size (None when no pool was reported)."""
    sizes = []
    for p in pools:
        n = p.get("num_threads") if isinstance(p, dict) else None
        if isinstance(n, int) and not isinstance(n, bool) and n > 0:
            sizes.append(n)
    return max(sizes) if sizes else None


def oversubscribed(largest: int | None, free: int | None) -> bool:
    """The flag: a pool larger than the CPUs free at the run's start."""
    return largest is not None and free is not None and largest > free


def fit(budget: dict[str, Any] | None, pools: Iterable[dict[str, Any]]) -> Cpus | None:
    """``runs[].cpus`` from the run's ``run_started.cpus`` and its pools; None when the
    run recorded no budget (older logs, ``--isolation thread``)."""
    if not isinstance(budget, dict) or not budget.get("usable"):
        return None
    usable = int(budget["usable"])
    busy = float(budget.get("busy") or 0.0)
    free = free_cpus(usable, busy)
    largest = largest_pool(pools)
    return Cpus(
        usable=usable,
        affinity=budget.get("affinity"),
        quota=budget.get("quota"),
        slurm=budget.get("slurm"),
        busy=round(busy, 2),
        free=free,
        threads_auto=budget.get("threads"),
        largest_pool=largest,
        oversubscribed=oversubscribed(largest, free),
    )


def advice(cpus: Cpus) -> str:
    """``--threads 1``: what fits the CPUs that were free."""
    return f"--threads {cpus.free}"


def limits_text(cpus: Cpus) -> str:
    """``2 usable (affinity 2, quota 1.5, SLURM 2), 0.98 busy → 1 free``."""
    parts = [f"affinity {cpus.affinity}" if cpus.affinity is not None else ""]
    if cpus.quota is not None:
        parts.append(f"cgroup quota {cpus.quota:g}")
    if cpus.slurm is not None:
        parts.append(f"SLURM {cpus.slurm}")
    where = ", ".join(p for p in parts if p)
    return (f"{cpus.usable} usable" + (f" ({where})" if where else "")
            + f", {units.cores(cpus.busy)} busy at its start → {cpus.free} free")


def sentence(cpus: Cpus) -> str:
    """The run's CPUs in one line; an oversubscribed run's ends with the advice."""
    text = limits_text(cpus)
    if cpus.threads_auto is not None:
        text += f"; --threads auto chose {cpus.threads_auto}"
    if cpus.largest_pool is not None:
        text += f"; largest pool {cpus.largest_pool}"
    if cpus.oversubscribed:
        text += f": oversubscribed, rerun with {advice(cpus)}"
    return text


OVERSUBSCRIBED = "oversubscribed"
#: What the per-run lines mean (the report's "Threads and CPUs" section).
EXPLAIN = (
    "Usable CPUs are the fewest of the affinity mask, the cgroup quota and "
    "SLURM_CPUS_PER_TASK; free = usable minus the cores other processes kept busy "
    "at the run's start (at least 1).  A run whose largest thread pool exceeds what "
    "is free is oversubscribed: its times are slower and noisier than the pools' size "
    "suggests.  --threads auto sizes every pool to what is free."
)
#: What the mark on an oversubscribed combination means (every results table's legend).
LEGEND = (
    f"{OVERSUBSCRIBED}: a thread pool larger than the CPUs free at the run's start "
    "(usable CPUs minus the cores others kept busy); rerun with the --threads its note "
    "names, or --threads auto"
)


def notes(n_over: int, advice_threads: int | None, auto: list[int]) -> list[str]:
    """A combination's notes: ``oversubscribed (1 run(s)): rerun with --threads 1`` and
    ``--threads auto chose 1``."""
    out = []
    if n_over:
        fix = f": rerun with --threads {advice_threads}" if advice_threads is not None else ""
        out.append(f"{OVERSUBSCRIBED} ({n_over} run(s)){fix}")
    if auto:
        out.append(f"--threads auto chose {', '.join(str(n) for n in sorted(set(auto)))}")
    return out
