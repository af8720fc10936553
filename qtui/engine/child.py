"""The run's process: one run, events written as JSON lines to an inherited fd.

A run's process starts one of two ways.  By default (``--isolation process``)
it is forked from the session's fork server (``qtui.engine.forkserver``), which
has torch and pennylane imported already: the forked process
(``qtui.engine.forkserver_main``) gets the run's ``RunSpec`` and its pipes over
the server's socket and calls ``run_forked``.  With ``--isolation spawn``, or
where the server cannot run (no pidfd: not Linux) or did not come up, the
supervisor starts a fresh ``python -P -m qtui.engine.child`` (``main``) with the
``RunSpec`` as one JSON line on stdin.  Either way ``QTUI_EVENT_FD`` names the
pipe to write events to (stdout and stderr stay free for the workload's own
prints), and ``serve`` trains.
Exit codes: 0 finished, 1 the workload raised (a ``run_failed`` was written),
anything else (or a signal) is a crash the supervisor reports.

It dies with its parent, qtui or the fork server (which dies with qtui): the
kernel SIGKILLs it when the parent goes (``PR_SET_PDEATHSIG``, asked for first
thing, followed by a check that the parent is still there, which closes the
race with a parent killed in between; Linux), even
while it is stuck in C code that holds the GIL.  A watchdog thread that
notices a new parent is the portable fallback.  The helpers a workload starts
are ended by qtui's janitor (``qtui.engine.reaper``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from qtui.core.config import THREADS_AUTO, RunSpec
from qtui.core.events import Event, RunStarted
from qtui.engine.event_writer import FLUSH_EVERY_S, EventWriter

if TYPE_CHECKING:
    from qtui.engine.cpu_budget import StartBudget

EVENT_FD_ENV = "QTUI_EVENT_FD"


#: The fallback watchdog's tick (no PDEATHSIG: not Linux).
WATCH_EVERY_S = 0.5


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_EVERY_S)
        if os.getppid() != parent:
            os._exit(3)


def main() -> None:
    from qtui.engine.reaper import die_with_parent

    die_with_parent()
    fd = int(os.environ[EVENT_FD_ENV])
    spec = RunSpec.from_dict(json.loads(sys.stdin.readline()))
    from qtui.engine.cpu_budget import StartBudget
    from qtui.engine.trainer import apply_thread_limit

    start = StartBudget(spec.params.threads)  # auto reads it now, before any import
    if spec.params.threads == THREADS_AUTO:  # in the environment the imports read
        apply_thread_limit(start.pool_size())
    os._exit(serve(spec, fd, start))


def run_forked(spec: RunSpec, fd: int) -> int:
    """The run in a process forked by the fork server (``qtui.engine.forkserver_main``).

    torch, pennylane and the OpenMP/BLAS libraries are loaded already, so the
    thread settings that a spawned child gets from the environment before its
    imports are applied to the loaded pools instead.
    """
    from qtui.engine.cpu_budget import StartBudget
    from qtui.engine.trainer import apply_thread_limit, limit_loaded_pools

    start = StartBudget(spec.params.threads)  # the window overlaps the build (auto: read now)
    threads = start.pool_size()
    limit_loaded_pools(threads)
    if spec.params.threads == THREADS_AUTO:  # torch's own count, and libraries loaded later
        apply_thread_limit(threads)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(threads)
    return serve(spec, fd, start)


def serve(spec: RunSpec, fd: int, budget: StartBudget | None = None) -> int:
    """Train ``spec``, writing events to ``fd``; returns the exit code (0 finished).

    ``budget`` (the CPUs read over the run's start, ``qtui.engine.cpu_budget``) goes
    into the ``run_started`` event the trainer or the script child writes: its
    window closes there, so it overlapped the imports and the build."""
    out = os.fdopen(fd, "wb")
    # A workload run's batches are coalesced (~20 writes a second at most, event_writer);
    # a script's are not: it may end with os._exit, and nothing after that runs.
    writer = EventWriter(out, flush_every_s=0.0 if spec.command else FLUSH_EVERY_S)
    emit = _with_budget(writer, budget) if budget is not None else writer
    from qtui.engine.reaper import dies_with_parent

    if not dies_with_parent():
        # Where the kernel cannot kill us with qtui, a thread looks.  Only there: a
        # thread that wakes during training takes the GIL from it, and 10 wake-ups a
        # second cost the forum model ~2 % of its step time (issue 9, item 4).
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    if spec.command:  # `qtui exec`: an unmodified script
        from qtui.engine.script_child import run_script

        ok = run_script(spec, emit)
    else:
        from qtui.engine.trainer import run_training

        ok = run_training(spec, emit, settle_heap=True)
    writer.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    # The caller skips interpreter teardown (os._exit): unloading torch + pennylane
    # takes 1-2 s, and the supervisor waits for the exit to read the OS's peak RSS.
    return 0 if ok else 1


def _with_budget(writer: EventWriter, budget: StartBudget) -> Callable[[Event], None]:
    """``writer``, with ``budget`` put into the ``run_started`` event on its way out
    (closing its window)."""

    def emit(event: Event) -> None:
        if type(event) is RunStarted:
            event.cpus = budget.budget()
        writer(event)

    return emit


if __name__ == "__main__":
    main()
