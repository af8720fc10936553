"""A cluster job's state in words: one function for the console, the TUI and the detail.

SLURM's own word for where a job stands, with what the scheduler adds to it:
the pending reason (``PENDING (Priority)``), the node it runs on (``RUNNING on
node12``), why it was requeued or ended badly (``REQUEUED (NodeFail)``,
``FAILED (NonZeroExitCode)``), and which attempt it is once SLURM requeued it
(``, attempt 2``).  qtui adds one word of its own, LOST, for a task the
scheduler no longer knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: SLURM's words for a job that ended badly (qtui adds LOST: a task it no longer knows).
JOB_FAILED = frozenset({
    "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
    "BOOT_FAIL", "DEADLINE", "REVOKED", "LOST",
})
#: States whose reason says why the job is where it is (requeued, held, ended badly).
_WITH_REASON = JOB_FAILED | {"REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "RESV_DEL_HOLD"}


def keeps_reason(state: str) -> bool:
    """Whether a job in ``state`` has a reason worth keeping (pending, requeued, held,
    ended badly); a RUNNING or COMPLETED job's reason is a leftover."""
    return state == "PENDING" or state in _WITH_REASON


def job_words(job: Mapping[str, Any]) -> str:
    """``PENDING (Priority)``, ``RUNNING on node12``, ``REQUEUED (NodeFail), attempt 2``,
    ``TIMEOUT``; "" for a local run (no state)."""
    state = str(job.get("state") or "")
    if not state:
        return ""
    reason = str(job.get("reason") or "")
    node = str(job.get("node") or "")
    attempt = int(job.get("attempt") or 0)
    again = f", attempt {attempt}" if attempt > 1 else ""  # SLURM requeued it
    if state == "PENDING":
        return (f"PENDING ({reason})" if reason else "PENDING") + again
    if state == "RUNNING":
        return (f"RUNNING on {node}" if node else "RUNNING") + again
    if state == "LOST":
        return "LOST"
    return (f"{state} ({reason})" if reason and keeps_reason(state) else state) + again


def job_line(job: Mapping[str, Any]) -> str:
    """The console's line for a change of state: ``job 58_2 PENDING (Priority)``."""
    words = job_words(job)
    job_id = str(job.get("job_id") or "")
    return f"job {job_id} {words}".strip() if words else ""


def jobs_tally(jobs: Iterable[Mapping[str, Any]]) -> str:
    """``1 RUNNING · 2 PENDING (Priority)``: where the given jobs stand, running first,
    then pending (with the first reason seen); "" when none has a state.  The TUI's
    status line and the console's periodic jobs line both say it with this."""
    counts: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for job in jobs:
        word = str(job.get("state") or "")
        if not word:
            continue
        counts[word] = counts.get(word, 0) + 1
        if job.get("reason") and word in _WITH_REASON | {"PENDING"}:
            reasons.setdefault(word, str(job["reason"]))
    order = sorted(counts, key=lambda w: (w != "RUNNING", w != "PENDING", w))
    return " · ".join(
        f"{counts[w]} {w}" + (f" ({reasons[w]})" if w in reasons else "") for w in order
    )
