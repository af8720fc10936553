"""*(child, fork server)* The garbage collector's state before a measured window.

Why: torch and pennylane import ~300,000 objects.  CPython's full collection
walks all of them (~150 ms on this machine) and comes when enough objects have
survived since the last one, so whether it lands inside a run's measured
training depends on what that process allocated before: one run pays it and
an identical one does not (issue 9: verdicts that flip).  And a process forked
from the fork server writes to every object a collection walks, copying pages
the server shares with it.

Decision: the fork server freezes its imported heap before it forks anything
(``freeze_imports``: ``gc.freeze``, Python's documented recipe for fork
servers), and every run, in its own process, collects once and freezes what
exists just before its measured window (``settle``): the collector still runs
during training, over what training creates, but never over the imports or
the model's construction.  A run in ``--isolation thread`` shares qtui's own
heap and is left alone.

Asked for (``QTUI_PRETOUCH=1``), a run also copies the pages it still shares
with the fork server before its window (``pretouch``), so the window takes the
page faults a fresh process would, not the fork's copy-on-write ones.
"""

from __future__ import annotations

import gc


def freeze_imports() -> None:
    """The fork server, after its imports: children inherit a frozen heap (no collect: cheap)."""
    gc.freeze()


def settle() -> None:
    """One collection, then freeze everything alive (a few ms in a forked run, whose
    imports are frozen already)."""
    gc.collect()
    gc.freeze()


#: Switched on in a run's environment (``qtui.core.env.env_flag``): a forked run copies, before
#: its measured window, the pages it still shares with the fork server (``pretouch``).
PRETOUCH_ENV = "QTUI_PRETOUCH"
_PAGE = 4096
_MADV_POPULATE_WRITE = 23  # Linux 5.14+
_PRESENT, _EXCLUSIVE = 1 << 63, 1 << 56  # /proc/self/pagemap entry bits


def pretouch_asked() -> bool:
    """Whether the run's environment asks for ``pretouch`` (off by default: see below)."""
    from qtui.core.env import env_flag

    return env_flag(PRETOUCH_ENV)


def shared_pages() -> list[tuple[int, int]]:
    """(address, bytes) runs of this process's private writable pages that are resident
    and still shared with another process (after a fork: the server's), from
    ``/proc/self/maps`` and ``/proc/self/pagemap``; [] where they cannot be read."""
    import numpy as np

    out: list[tuple[int, int]] = []
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps, \
                open("/proc/self/pagemap", "rb") as pagemap:
            for line in maps:
                fields = line.split()
                name = fields[5] if len(fields) > 5 else ""
                if fields[1] != "rw-p" or (name.startswith("[") and name != "[heap]"):
                    continue  # shared, read-only, the stack, vvar...
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                pagemap.seek(lo // _PAGE * 8)
                entries = np.frombuffer(pagemap.read((hi - lo) // _PAGE * 8), dtype=np.uint64)
                wanted = ((entries & np.uint64(_PRESENT)) != 0) & ((entries & np.uint64(_EXCLUSIVE)) == 0)
                edges = np.flatnonzero(np.diff(np.concatenate(([0], wanted.view(np.int8), [0]))))
                out.extend((lo + int(a) * _PAGE, int(b - a) * _PAGE) for a, b in zip(edges[::2], edges[1::2], strict=True))
    except (OSError, ValueError):
        return []
    return out


def pretouch() -> tuple[int, int]:
    """Break copy-on-write sharing now, outside the measured window: each page this
    forked run shares with the server is copied (``MADV_POPULATE_WRITE``: content kept,
    no page that is not resident is added, so the run's RSS does not grow).

    Why: a forked run writes to pages the server's imports left dirty (refcounts of
    code, functions and types; the allocator's heap), and each first write is a
    copy-on-write fault inside its window: ~2,100 more minor faults than a spawned run
    on the forum's 6 epochs, most in its first step (issue 24).  The price: every page
    the server wrote is copied for every run (~300 MiB, ~0.1-0.2 s here), whether the
    run touches it or not; so it is asked for (``QTUI_PRETOUCH=1``), not the default.
    Returns (bytes copied, ranges that failed); (0, n) where the kernel has no
    ``MADV_POPULATE_WRITE`` (before 5.14)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0, 0
    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    done = failed = 0
    for address, size in shared_pages():
        if madvise(address, size, _MADV_POPULATE_WRITE) == 0:
            done += size
        else:
            failed += 1
    return done, failed
