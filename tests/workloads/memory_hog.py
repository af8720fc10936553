"""A run that grows until the kernel stops it: for the out-of-memory attribution."""

from __future__ import annotations

import time

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext
from workloads.faulty import _wrap

#: Stop growing here (an unlimited machine): the test then fails rather than the machine.
CEILING = 6 << 30
CHUNK = 32 << 20


def _grow() -> None:
    """Touches 32 MiB at a time, a sample interval apart at first, until killed."""
    held = []
    total = 0
    while total < CEILING:
        held.append(b"\x01" * CHUNK)  # written: resident, not just reserved
        total += CHUNK
        time.sleep(0.02)
    raise MemoryError(f"grew to {total} bytes and was not stopped")


def grows(ctx: WorkloadContext) -> Workload:
    """Builds as the forum model does; its first batch grows until killed."""
    return _wrap(forum_build(ctx), _grow)
