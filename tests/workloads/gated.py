"""A workload that waits at its first batch until the test lets it go on.

The SLURM outage test (``tests/test_slurm_pending.py``) stops slurmctld while one
task of an array runs: a task whose job ended during the pause stayed COMPLETING
for about a minute after the controller came back (its end was never heard), so
the running task must outlast the pause, however long the pause turns out to be.
A fixed training time would have to guess; this one waits for a file instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext

#: The variable naming the gate file; the run goes on once the file exists.
GATE_ENV = "QTUI_TEST_GATE"
#: Never wait longer than this (a test that forgot to open the gate still ends).
MAX_WAIT_S = 300.0


def gated(ctx: WorkloadContext) -> Workload:
    """The forum workload, waiting before its first batch until ``$QTUI_TEST_GATE``
    exists (at most ``MAX_WAIT_S``); unset, it does not wait."""
    gate = os.environ.get(GATE_ENV, "")
    wl = forum_build(ctx)
    data = wl.train_data
    waited = [not gate]

    class Gated:
        def __iter__(self) -> Iterator[Any]:
            if not waited[0]:
                waited[0] = True
                deadline = time.monotonic() + MAX_WAIT_S
                while not Path(gate).exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            yield from data

    wl.train_data = Gated()
    return wl


#: The variable naming the hold file; the run waits before its second batch while it exists.
HOLD_ENV = "QTUI_TEST_HOLD"


def held(ctx: WorkloadContext) -> Workload:
    """The forum workload, its first epoch and then waiting while ``$QTUI_TEST_HOLD``
    exists (at most ``MAX_WAIT_S``): a run that is surely alive when the test looks,
    however slowly the test's own steps went (a fixed training time is a guess that load
    can beat).  It waits between epochs, where the epoch's events have gone out."""
    hold = os.environ.get(HOLD_ENV, "")
    wl = forum_build(ctx)
    data = wl.train_data
    epochs = [0]

    class Held:
        def __iter__(self) -> Iterator[Any]:
            epochs[0] += 1
            if epochs[0] == 2 and hold:
                deadline = time.monotonic() + MAX_WAIT_S
                while Path(hold).exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            yield from data

    wl.train_data = Held()
    return wl
