"""The history's thinning rule, in one place.

Batches and samples arrive many times a second; the history keeps one per run
per ``thin_s`` seconds of event time (the first, then the first at least
``thin_s`` after the last kept).  ``HistoryDB`` applies it when it stores, and
``Recording`` applies it before the writer's queue, so the writer thread never
wakes for a point it would drop.  Both use this rule, so the rows are the same.
"""

from __future__ import annotations

from qtui.core import events as ev

#: Event types the history thins (every other type is always kept).
THINNED = frozenset({"batch", "sample"})


def keep(last_kept: dict[tuple[str, str], float], event: ev.Event, thin_s: float) -> bool:
    """True when ``event`` is stored; records it in ``last_kept`` when it is a kept point."""
    run_id = getattr(event, "run_id", None)
    if event.type not in THINNED or not run_id:
        return True
    key = (run_id, event.type)
    last = last_kept.get(key)
    if last is not None and event.t - last < thin_s:
        return False
    last_kept[key] = event.t
    return True
