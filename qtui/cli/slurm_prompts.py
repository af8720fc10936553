"""What the headless commands say and ask about a cluster session.

Kept apart from ``qtui.cli.console_session`` so local runs never read about clusters:
the line that opens a session (where the jobs go, where their files are, how
to re-attach), the question a Ctrl-C asks with jobs in flight, and the line
that ends a session left running.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from qtui.core.safe_text import one_line, visible


def announce(executor: Any, specs: list[Any], session_id: str | None, err: Console) -> None:
    """``Submitting 4 run(s) as one SLURM job array (...)``, and where its files go; for a
    re-attached session (``qtui watch --jobs-dir``), ``Re-attached to 4 run(s) ...``."""
    opts = executor.options
    where = "on SLURM" if opts.cluster == "slurm" else f"on submitit's {opts.cluster} executor"
    if executor.folder is not None:  # attached to a manifest before anything is submitted
        err.print(
            Text(visible(
                f"Re-attached to {len(specs)} run(s) of the job array {where} in "
                f"{executor.folder}: each job's log is read from its start, the unfinished "
                "jobs are watched to their end.  Ctrl-C asks whether to cancel them or "
                "leave them running."
            )),
            highlight=False,
        )
        return
    folder = opts.folder() / session_id if session_id else opts.folder()
    err.print(
        Text(visible(
            f"Submitting {len(specs)} run(s) as one job array {where} ({opts.describe()}); "
            f"jobs folder {folder}.  Ctrl-C asks whether to cancel the jobs or leave them "
            f"running; re-attach with: qtui watch --jobs-dir {folder}"
        )),
        highlight=False,
    )


def ask_leave_or_cancel(err: Console) -> bool:
    """Ctrl-C with jobs in flight: True to leave them running.  ``c`` or ``y`` cancels,
    ``l`` leaves, anything else (Enter alone included) asks again: cancelling a whole
    array is not done on a stray key.  Without a terminal to ask (stdin not a TTY), at
    the end of input, or on a second Ctrl-C, the jobs are cancelled."""
    if not sys.stdin.isatty():
        err.print("\nInterrupted: cancelling the jobs (no terminal to ask).", style="yellow")
        return False
    question = Text(  # Text, not a markup string: Rich read "[c]" and "[l]" as tags and ate them
        "\nJobs are still running on the cluster.  [c]ancel them, or [l]eave them running "
        "(re-attach later with qtui watch --jobs-dir)?  [c/l] ",
        style="yellow",
    )
    while True:
        err.print(question, end="", highlight=False)
        try:
            line = sys.stdin.readline()
        except (KeyboardInterrupt, OSError, ValueError):
            line = ""
        answer = line.strip().lower()
        if not line or answer[:1] in ("c", "y"):
            leave = False
            break
        if answer[:1] == "l":
            leave = True
            break
        question = Text("\nPlease type c (cancel the jobs) or l (leave them running).  [c/l] ",
                        style="yellow")
    err.print("Leaving the jobs running..." if leave else "Cancelling the jobs (scancel)...",
              style="yellow")
    return leave


def report_uncancelled(executor: Any, err: Console) -> None:
    """After the executor closed: the jobs it could not cancel (they may still run and
    use the allocation), one warning line, since no session note reaches anyone now."""
    why = executor.uncancelled()
    if why:
        err.print(Text(one_line(f"qtui: warning: {why}")), style="yellow", highlight=False, soft_wrap=True)


def farewell(executor: Any, err: Console) -> None:
    """For a session left running: the one command that brings it back."""
    if getattr(executor, "detached", False) and executor.folder is not None:
        err.print(
            Text(visible(
                f"qtui: the jobs go on without qtui; re-attach with: "
                f"qtui watch --jobs-dir {executor.folder}"
            )),
            highlight=False, soft_wrap=True,
        )
