"""A run's resource readings over time, kept bounded for the summary (``runs[].samples``).

The sampler reads a run ten times a second (``qtui.engine.sampler``); the summary
keeps those readings so that every export of a session (the JSON, the CSV's
``-samples.csv``, the app's export, ``qtui history --summary``) holds the same
series, whatever it was made from.  Ten a second for an hour is 36,000 readings:
too many for a file that is otherwise kilobytes.  So a run keeps at most
``MAX_SAMPLES``: when the series is full, every other reading is dropped and
from then on only one in 2 (then 4, 8, …) is kept, so the readings stay evenly
spaced and a run of any length keeps between half and all of ``MAX_SAMPLES``
once it has had that many (as ``qtui.ui.state`` halves its plot histories).
Figures are rounded to what the sampler can tell (milliseconds, bytes, a
hundredth of a core): ``1.2345678901`` costs 12 characters of JSON per figure.
Measured on the recorded real session (``tests/data/real_events.jsonl``, 245
readings of 4 runs): 100 bytes of summary a reading, 34.6 KB without, 59.2 KB with.

Not kept: the machine's per-core readings (``Sample.percpu``), which are every
process's and N cores wide (1,280 characters a reading on a 128-core node);
their sum, ``busy_cores``, is.  The event log holds them all.
"""

from __future__ import annotations

import math
from array import array

from qtui.core import events as ev
from qtui.core.summary_schema import Samples

#: Readings a run keeps at most: a 25 s run's at the default 0.1 s whole, an hour's
#: one in 16 (every 1.6 s).  The summary is indented JSON, one number a line: about
#: 100 bytes a reading, so at most ~26 KB a run.
MAX_SAMPLES = 256


def _round(value: float, digits: int) -> float:
    """``value`` rounded; NaN stays NaN (written as ``null``)."""
    return round(value, digits) if math.isfinite(value) else float("nan")


class SampleSeries:
    """The readings of one run, thinned evenly to at most ``MAX_SAMPLES``."""

    __slots__ = ("_seen", "every", "t", "cpu_s", "cores_in_use", "rss", "threads", "busy_cores")

    def __init__(self) -> None:
        self._seen = 0
        self.every = 1
        self.t, self.cpu_s, self.cores_in_use = array("d"), array("d"), array("d")
        self.rss: list[int] = []
        self.threads: list[int] = []
        self.busy_cores = array("d")

    def __len__(self) -> int:
        return len(self.t)

    def add(self, s: ev.Sample) -> None:
        """Keep the reading when it falls on the current stride; halve when full."""
        seen, self._seen = self._seen, self._seen + 1
        if seen % self.every:
            return
        if len(self.t) >= MAX_SAMPLES:
            for column in (self.t, self.cpu_s, self.cores_in_use, self.rss, self.threads,
                           self.busy_cores):
                del column[1::2]
            self.every *= 2
            if seen % self.every:
                return
        self.t.append(_round(float(s.wall_s), 3))
        self.cpu_s.append(_round(float(s.cpu_s), 3))
        self.cores_in_use.append(_round(float(s.cores_in_use), 3))
        self.rss.append(int(s.rss))
        self.threads.append(int(s.threads))
        self.busy_cores.append(_round(sum(float(p) for p in s.percpu) / 100.0, 2))

    def record(self) -> Samples | None:
        """``runs[].samples``; None for a run that was never sampled."""
        if not self.t:
            return None
        return Samples(
            t=list(self.t), cpu_s=list(self.cpu_s), cores_in_use=list(self.cores_in_use),
            rss=list(self.rss), threads=list(self.threads), busy_cores=list(self.busy_cores),
            every=self.every,
        )
