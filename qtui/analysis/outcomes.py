"""How a run ended, in one line: failed, crashed, timed out or cancelled, and why.

The CLI's "did not finish" list, every export, history and ``watch`` describe
an unfinished run with ``describe_error``, so the reason reads the same in
each.
"""

from __future__ import annotations

from typing import Any

from qtui.core.parameters import command


def describe_error(error: dict[str, Any] | None, state: str | None = None) -> str:
    """One line for a run that did not finish: ``failed, ValueError: …``,
    ``crashed, SIGKILL``, ``timed out after 5 s``, ``cancelled (session cancelled)``.

    ``state`` is the run's state when the error dict does not carry it.
    """
    e = error if isinstance(error, dict) else {}
    text = _describe(e, str(e.get("state") or state or ""))
    sched = str(e.get("scheduler_state") or "")
    if e.get("left_running"):
        return "left running on the cluster (not watched; qtui watch --jobs-dir re-attaches)"
    if sched == "LOST":  # qtui's word: the scheduler forgot the job
        return "lost: the scheduler no longer knows its job"
    return f"{text} (SLURM: {sched})" if sched and sched not in text else text


def _describe(e: dict[str, Any], state: str) -> str:
    if e.get("exc_type") or state == "failed":
        msg = str(e.get("message") or "").strip().splitlines()
        text = f"failed, {e.get('exc_type') or 'error'}"
        return text + (f": {msg[0][:200]}" if msg else "")
    if state == "crashed" or "signal" in e or "exit_code" in e:
        if e.get("signal"):
            return f"crashed, {e['signal']}"
        if e.get("exit_code") is None and e.get("scheduler_state"):
            return "crashed"  # " (SLURM: OUT_OF_MEMORY)" follows
        return f"crashed, exit code {e.get('exit_code')}"
    if state == "timed_out" or "timeout_s" in e:
        try:
            limit = f"{float(e.get('timeout_s') or 0):g}"
        except (TypeError, ValueError):
            limit = "?"
        return f"timed out after {limit} s"
    if state == "cancelled" or "reason" in e:
        reason = str(e.get("reason") or "cancelled")
        return reason if reason.startswith("cancelled") else f"cancelled ({reason})"
    return state or ("error" if e else "")


def failed_runs(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs that did not finish, each with ``label`` and ``why``."""
    out = []
    for run in summary.get("runs") or []:
        if not isinstance(run, dict) or run.get("state") == "finished":
            continue
        params = run.get("parameters") or {}
        why = describe_error(run.get("error"), run.get("state")) or str(run.get("state", "unknown"))
        out.append(
            {
                "run_id": run.get("run_id"),
                "label": command(params),
                "repeat": int(run.get("repeat_index") or 0) + 1,
                "state": run.get("state"),
                "why": why,
            }
        )
    return out


def run_warning_total(run: dict[str, Any]) -> int:
    return sum(int(w.get("count", 0)) for w in run.get("warnings") or [] if isinstance(w, dict))


