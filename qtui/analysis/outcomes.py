"""How a run ended, in one line: failed, crashed, timed out or cancelled, and why.

The CLI's "did not finish" list, every export, history and ``watch`` describe
an unfinished run with ``describe_error``, so the reason reads the same in
each.
"""

from __future__ import annotations

from typing import Any

from qtui.core.parameters import combo_name
from qtui.core.summary_schema import Run, RunError, Summary


def describe_error(error: RunError | None, state: str | None = None) -> str:
    """One line for a run that did not finish: ``failed, ValueError: …``,
    ``crashed, SIGKILL``, ``timed out after 5 s``, ``cancelled (session cancelled)``;
    a cluster run's adds SLURM's word and its job's log files (``; logs: …``).

    ``state`` is the run's state when the error does not carry it.
    """
    e = error if error is not None else RunError()
    text = _describe(e, str(e.state or state or ""), error is not None)
    sched = str(e.scheduler_state or "")
    if e.left_running:
        return "left running on the cluster (not watched; qtui watch --jobs-dir re-attaches)"
    if sched == "LOST":  # qtui's word: the scheduler forgot the job
        text = "lost: the scheduler no longer knows its job"
    elif sched and sched not in text:
        text = f"{text} (SLURM: {sched})"
    # a cluster job's own output says what it did: where its logs are, in every message
    return text + (f"; logs: {', '.join(e.job_logs)}" if e.job_logs else "")


def _describe(e: RunError, state: str, known: bool) -> str:
    if e.exc_type or state == "failed":
        msg = str(e.message or "").strip().splitlines()
        text = f"failed, {e.exc_type or 'error'}"
        return text + (f": {msg[0][:200]}" if msg else "")
    if state == "crashed" or e.signal is not None or e.exit_code is not None:
        if e.cause:  # out of memory, lost with the fork server: what killed it
            how = e.signal or (f"exit code {e.exit_code}" if e.exit_code is not None else "")
            return f"crashed, {e.cause}" + (f" ({how})" if how and how not in e.cause else "")
        if e.signal:
            return f"crashed, {e.signal}"
        if e.exit_code is None and e.scheduler_state:
            return "crashed"  # " (SLURM: OUT_OF_MEMORY)" follows
        return f"crashed, exit code {e.exit_code}"
    if state == "timed_out" or e.timeout_s is not None:
        limit = float(e.timeout_s or 0)
        if e.slurm_elapsed_s is not None:  # how long its job ran by sacct; the limit stays the limit
            return f"timed out after {float(e.slurm_elapsed_s):g} s (limit {limit:g} s)"
        return f"timed out after {limit:g} s"
    if state == "cancelled" or e.reason is not None:
        reason = str(e.reason or "cancelled")
        return reason if reason.startswith("cancelled") else f"cancelled ({reason})"
    return state or ("error" if known else "")


def failed_runs(summary: Summary) -> list[dict[str, Any]]:
    """Runs that did not finish, each with ``run_id``, ``label``, ``repeat``, ``state``
    and ``why`` (a row of the views' "did not finish" list)."""
    out = []
    for run in summary.runs:
        if run.state == "finished":
            continue
        why = describe_error(run.error, run.state) or str(run.state or "unknown")
        out.append(
            {
                "run_id": run.run_id,
                "label": combo_name(run.parameters),
                "repeat": int(run.repeat_index or 0) + 1,
                "state": run.state,
                "why": why,
            }
        )
    return out


def run_warning_total(run: Run) -> int:
    return sum(w.count for w in run.warnings)
