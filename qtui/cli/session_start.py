"""Starting a headless session from parsed flags: ``run``, ``sweep`` and ``exec`` alike.

The flags every running command shares (``--events``, ``--json``,
``--force``, ``--repeat auto``, ``--executor``, ``--isolation``) reach
``qtui.cli.console_session.run_session`` through one function.

``run`` and ``sweep`` start the fork server (``early_server``) as soon as their
flags say the runs are local and forked, before the capability cache is read
and the workload checked, so its imports (3-5 s) overlap qtui's own start.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from qtui.cli.errors import fail
from qtui.cli.workload_gate import check_workload
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core.config import DEFAULT_WORKLOAD, RunSpec
from qtui.session import size_limits
from qtui.session.adaptive import AdaptiveRepeats, RepeatPolicy


def command_line(args: argparse.Namespace) -> list[str]:
    """The command as typed (``qtui.cli.main.main`` records it), for the summary and the job."""
    return list(getattr(args, "argv", None) or ["qtui", *sys.argv[1:]])


def cluster_executor(
    slurm: SlurmOptions | None, argv: list[str]
) -> tuple[Any, str | None]:
    """``(SlurmExecutor, session id)`` for ``--executor slurm``; ``(None, None)`` locally."""
    if slurm is None:
        return None, None
    import uuid

    from qtui.cluster.slurm_executor import SlurmExecutor

    return SlurmExecutor(slurm, argv=argv), uuid.uuid4().hex[:12]


@contextlib.contextmanager
def early_server(args: argparse.Namespace, slurm: SlurmOptions | None) -> Iterator[None]:
    """Within: the fork server starts in the background, at once, when the runs will be
    forked locally (``--isolation process``, no ``--executor slurm``, no warm executor
    lent to ``main``); ``local_executor`` hands it to the session, and it is closed on
    the way out, a start under way ended (a command that fails its checks exits at
    once).  Its start note goes to the session's first run (issue 24)."""
    isolation = getattr(args, "isolation", None) or "process"
    if slurm is not None or isolation != "process" or getattr(args, "local_executor", None) is not None:
        yield
        return
    from qtui.engine.forkserver import ProcessExecutor

    executor = ProcessExecutor()
    threading.Thread(target=executor.warm, kwargs={"tell_first_run": True},
                     name="qtui-early-server", daemon=True).start()
    args.local_executor = executor
    try:
        yield
    finally:
        args.local_executor = None
        executor.close()


def local_executor(args: argparse.Namespace, isolation: str) -> Any:
    """The warm executor a caller of ``main`` passed in, or ``early_server``'s (process
    isolation only), else None: the session starts its own."""
    return getattr(args, "local_executor", None) if isolation == "process" else None


def start_session(
    args: argparse.Namespace,
    specs: list[RunSpec],
    combos: list[tuple[str, str]],
    refused: list[dict[str, Any]],
    workload: str,
    interval: float,
    policy: RepeatPolicy | None = None,
    slurm: SlurmOptions | None = None,
) -> int:
    """Check a custom workload in a child, then run the specs headless (run and sweep);
    with ``slurm``, as one job array on the cluster (``qtui.cluster``).

    Locally with process isolation, the check is forked from the session's fork
    server, started here and handed to the session, so torch and pennylane are
    imported once for the check and the runs (``qtui.engine.forked_check``)."""
    isolation = getattr(args, "isolation", None) or "process"
    executor = local_executor(args, isolation)
    own = None
    if workload != DEFAULT_WORKLOAD and slurm is None and executor is None and isolation == "process":
        from qtui.engine.forkserver import ProcessExecutor

        executor = own = ProcessExecutor()
    try:
        if workload != DEFAULT_WORKLOAD:
            problem = check_workload(specs, executor if slurm is None else None)
            if problem:
                return fail(f"workload: {problem}")
        return headless_session(args, specs, refused, interval, policy, slurm, executor)
    finally:
        if own is not None:
            own.close()


def headless_session(
    args: argparse.Namespace,
    specs: list[RunSpec],
    refused: list[dict[str, Any]],
    interval: float,
    policy: RepeatPolicy | None,
    slurm: SlurmOptions | None,
    executor: Any = None,
) -> int:
    """Run checked specs headless with the flags every running command shares (run,
    sweep, exec): ``--events``, ``--json``, ``--force``, ``--repeat auto``, ``--executor``.
    ``executor``: a local executor the caller owns (else the one lent to ``main``, else
    the session starts its own)."""
    from qtui.cli.console_session import run_session

    argv = command_line(args)
    isolation = getattr(args, "isolation", None) or "process"
    cluster, session_id = cluster_executor(slurm, argv)
    if cluster is None and executor is None:
        executor = local_executor(args, isolation)
    planner: Any = AdaptiveRepeats(specs, policy) if policy is not None else None
    limits = getattr(args, "size_limits", None)
    if (planner is None and limits is not None and (limits.max_memory or limits.max_step_time)
            and cluster is None and size_limits.needed(specs)):
        planner = size_limits.SizeLimits(specs, limits)  # size by size, within the limits
        specs = planner.first()
    return run_session(
        specs,
        refused=refused,
        interval=interval,
        events_path=args.events,
        json_path=args.json,
        force=args.force,
        argv=argv,
        planner=planner,
        executor=cluster if cluster is not None else executor,
        session_id=session_id,
        isolation=isolation,
        predict=getattr(args, "predict_sizes", None),
        bell=not getattr(args, "no_bell", False),
    )
