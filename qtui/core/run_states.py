"""A run's state word from the event that ended it: one rule for the summary's fold
and the history database, so both say the same.

``left_running`` (issue 22, item 5): a cluster job qtui stopped watching when
the user quit and left the jobs running (or the terminal closed).  It is not
cancelled: the job goes on, and ``qtui watch --jobs-dir`` re-attaches and
records how it ended, in the same session.
"""

from __future__ import annotations

from qtui.core import events as ev

LEFT_RUNNING = "left_running"

#: Terminal event type -> the run's state.
TERMINAL_STATE = {
    "run_finished": "finished",
    "run_failed": "failed",
    "run_crashed": "crashed",
    "run_timed_out": "timed_out",
    "run_cancelled": "cancelled",
}

#: A state as the views write it, where that differs from the state itself.
STATE_WORDS = {"timed_out": "timed out", LEFT_RUNNING: "left running"}

#: States a later re-attach can still change: the run's job was not seen to end.
OPEN_STATES = frozenset({"", "queued", "running", LEFT_RUNNING, "lost"})


def end_state(event: ev.Event) -> str:
    """``finished``, ``failed``, ``crashed``, ``timed_out``, ``cancelled`` or
    ``left_running`` for a terminal event."""
    if isinstance(event, ev.RunCancelled) and event.left_running:
        return LEFT_RUNNING
    return TERMINAL_STATE[event.type]
