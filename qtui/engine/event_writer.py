"""*(child)* The run's event pipe: every event written, ``batch`` events coalesced.

A fast training step (the forum model: ~3 ms) used to cost one ``write`` and
one wake-up of qtui per step: a system call in the measured loop, and qtui's
reader, decoder and fold running on the other core of a small machine about
300 times a second.  Now a ``batch`` event is written to the buffer and the
buffer goes to the pipe when ``FLUSH_EVERY_S`` has passed since the last write
that reached it; any other event (run started, epoch, phases, warnings, the
end) goes at once, with whatever batches are waiting before it, in order.  No
thread flushes in the background: a thread that wakes during training takes
the GIL from it (measured: ~2 % of the forum model's step time at 10 wake-ups
a second).  So the loss curve is at most ``FLUSH_EVERY_S`` or one step behind,
whichever is longer: a batch held after a fast step goes when the next step
ends.

Decision (issue 24: qtui's own cost): ``FLUSH_EVERY_S`` is 0.1 s, the sampler's
default tick, not 0.05 s.  Each write wakes qtui's reader, its supervisor and
its history writer, each on a cold cache after the pause; at 20 writes a
second the forum model's 30-epoch run cost qtui 0.18 s of CPU against 0.15 s
at 10 (``qtui run --epochs 30``, three interleaved rounds, load 2.7-3.1), and
the child makes half the ``write`` calls.

Decision: what a crash (a native fault, SIGKILL) can lose is the batches of
the last ``FLUSH_EVERY_S``; the crash itself and everything else are reported
as before (the supervisor sees the exit).  Steps slower than ``FLUSH_EVERY_S``
are written one by one, as before.  A ``qtui exec`` script's events are never
held back (``flush_every_s=0``): the script may end with ``os._exit``, which
skips the final flush.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import BinaryIO

from qtui.core.events import Batch, Event, encoded

#: The most a ``batch`` event waits in the buffer while steps keep coming (seconds): the
#: sampler's default tick, so the curve is as live as the CPU and memory beside it.
FLUSH_EVERY_S = 0.1


class EventWriter:
    """Thread-safe writer of encoded events to the event pipe (see the module docstring).

    ``clock`` (seconds, monotonic) decides when a held batch is due; tests pass a
    virtual one so "a fast step" and "a slow step" do not depend on the machine's load.
    """

    def __init__(
        self,
        out: BinaryIO,
        flush_every_s: float = FLUSH_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._every = flush_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_flush = 0.0
        # the first batch goes at once, whatever came just before it (run_started): the
        # first loss point is live even when the second step is slow
        self._first_batch = True

    def __call__(self, event: Event) -> None:
        line = encoded(event) + b"\n"  # encoded once here (msgspec); passed on as is
        with self._lock:
            self._out.write(line)
            # read, then called: ``self._clock()`` is a method lookup that costs 3 % of
            # an emit on CPython 3.11; this costs what ``time.monotonic()`` did
            clock = self._clock
            now = clock()
            if type(event) is Batch:
                if self._first_batch:
                    self._first_batch = False
                elif now - self._last_flush < self._every:
                    return  # held: goes with the next write that reaches the pipe
            self._flush(now)

    def flush(self) -> None:
        """Send everything written so far (the run's end)."""
        with self._lock:
            self._flush(self._clock())

    def _flush(self, now: float) -> None:
        self._out.flush()
        self._last_flush = now
