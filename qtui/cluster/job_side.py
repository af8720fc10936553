"""What runs inside a cluster job, on the compute node: one run, measured there.

submitit pickles ``run_job`` with its arguments and calls it in the job.  It
runs the same supervisor, executor (a child from the fork server) and sampler
as a local run, on the node: per-core CPU of *that* node, the run's RSS,
threads, cores and the contention of other processes, and the node's own
``machine_info`` in the log's first line.  Every event goes to the run's JSONL
file in the shared jobs folder, flushed line by line; the qtui process follows
that file (``qtui.cluster.slurm_executor``).  Nothing is sampled across the
network.

A run that does not finish makes the job fail (``RunDidNotFinish``), so the
scheduler's accounting (``sacct``) says FAILED for it too; its reason is in
the log.  SIGTERM (``scancel``, the time limit) cancels the run cleanly first,
so the log ends with a terminal event where the node allows it; submitit's
early time-limit warning (SIGUSR2) is ignored, see ``run_job``.
"""

from __future__ import annotations

import signal
from typing import Any


class RunDidNotFinish(RuntimeError):
    """The job's run failed, crashed, timed out or was cancelled (see its events)."""


def run_job(spec: dict[str, Any], events: str, interval: float, session_id: str) -> str:
    """Run one spec on this node, writing its events to ``events``; returns the
    terminal event's type (``run_finished``) or raises ``RunDidNotFinish``."""
    from qtui.config import RunSpec
    from qtui.engine.supervisor import Supervisor
    from qtui.events import TERMINAL_TYPES, Event

    ends: list[Event] = []

    def on_event(event: Event) -> None:
        if event.type in TERMINAL_TYPES:
            ends.append(event)

    sup = Supervisor(
        [RunSpec.from_dict(spec)], on_event, events_path=events, interval=interval,
        isolation="process", session_id=session_id,
    )
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sup.cancel_all())
    # submitit warns a job with SIGUSR2 90 s before its time limit and, for a function
    # that cannot checkpoint, ends it there with an error: SLURM would then say FAILED,
    # 90 s early.  A qtui run cannot resume, so it trains on and SLURM's own limit
    # ends it: sacct says TIMEOUT, and so does qtui.
    previous_usr2 = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    try:
        sup.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGUSR2, previous_usr2)
    last = ends[-1] if ends else None
    if last is None or last.type != "run_finished":
        kind = last.type if last is not None else "no terminal event"
        detail = getattr(last, "message", "") or getattr(last, "reason", "") or getattr(
            last, "signal", ""
        ) or ""
        raise RunDidNotFinish(f"{kind}{': ' + str(detail) if detail else ''} (see {events})")
    return last.type
