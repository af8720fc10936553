"""Was a run killed for memory?  The kernel's own counters, else the run's last RSS.

A run killed by the OOM killer ends with SIGKILL, the same as ``kill -9``;
``run_crashed`` said only ``SIGKILL``.  Here, read before the run starts and
after it ends:

* the memory cgroup's OOM-kill counter of this qtui (cgroup v2 ``memory.events``
  ``oom_kill``; v1 ``memory.oom_control`` ``oom_kill``): the run, forked or
  spawned by qtui, is in qtui's cgroup;
* the kernel's ``/proc/vmstat`` ``oom_kill`` (every OOM kill on the machine,
  cgroup ones included), where no cgroup counter can be read.

A counter that rose while a run that died of SIGKILL ran names the kill
*out of memory*, with the counter and its figures.  Where no counter rose or
none can be read, the run's RSS at its last sample within ``NEAR_LIMIT`` of
the memory limit (the cgroup's, else the machine's) says *out of memory,
probably*, with both figures.  Decision: a counter that rose for another
process of the same cgroup (or, for ``/proc/vmstat``, of the machine) at the
moment this run was SIGKILLed is taken as this run's; the cause names the
counter, so the reader can judge.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from qtui.core.units import memory as fmt_bytes

#: The last sample's RSS at or above this share of the limit reads as out of memory.
NEAR_LIMIT = 0.9

CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED = 1 << 60


@dataclass(frozen=True)
class OomCounters:
    """The OOM-kill counters readable now: ``{file: count}``."""

    counts: dict[str, int]


def _cgroup_files() -> list[Path]:
    """This process's memory cgroup counter files (v2 ``memory.events``, v1 ``memory.oom_control``)."""
    out: list[Path] = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        rel = path.lstrip("/")
        if controllers == "":  # v2 unified
            out.append(CGROUP_ROOT / rel / "memory.events")
            out.append(CGROUP_ROOT / "unified" / rel / "memory.events")
        elif "memory" in controllers.split(","):
            out.append(CGROUP_ROOT / "memory" / rel / "memory.oom_control")
    return out


def _count(path: Path, key: str = "oom_kill") -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isascii() and value.strip().isdigit():
            return int(value)
    return None


def counters() -> OomCounters:
    """The counters now (cgroup ones first; ``/proc/vmstat`` as well)."""
    counts: dict[str, int] = {}
    for path in [*_cgroup_files(), Path("/proc/vmstat")]:
        n = _count(path)
        if n is not None:
            counts[str(path)] = n
    return OomCounters(counts)


def memory_limit() -> int | None:
    """The memory this qtui's processes may use: the cgroup's limit, else the machine's."""
    for path in _cgroup_files():
        name = "memory.max" if path.name == "memory.events" else "memory.limit_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            value = int((path.parent / name).read_text().strip())
            if 0 < value < _UNLIMITED:
                return value
    with contextlib.suppress(OSError, ValueError):
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return None


def oom_cause(
    before: OomCounters, after: OomCounters, signal: str | None, last_rss: int | None,
    limit: int | None = None,
) -> str | None:
    """``out of memory (...)`` for a run that died of SIGKILL while an OOM counter rose,
    or whose last RSS was near the limit; None otherwise."""
    if signal != "SIGKILL":
        return None
    limit = memory_limit() if limit is None else limit
    rss = f"; RSS {fmt_bytes(last_rss)} at its last sample" if last_rss else ""
    of = f" of a {fmt_bytes(limit)} limit" if limit and last_rss else ""
    rose = [
        (name, before.counts[name], n) for name, n in after.counts.items()
        if name in before.counts and n > before.counts[name]
    ]
    cgroup = [r for r in rose if not r[0].endswith("vmstat")]
    for name, a, b in cgroup or rose:
        return f"out of memory (the kernel's OOM killer: {name} oom_kill {a} → {b}{rss}{of})"
    if last_rss and limit and last_rss >= NEAR_LIMIT * limit:
        return (f"out of memory, probably (RSS {fmt_bytes(last_rss)} of a {fmt_bytes(limit)} "
                "limit at its last sample; no OOM counter readable or risen)")
    return None
