"""``qtui watch --jobs-dir DIR``: a cluster session qtui left, shown again live.

The session's manifest names every run with its spec and job; a supervisor
over those specs, driving a ``SlurmExecutor`` attached to the folder, reads
each job's log from its start and follows it, and watches the jobs that are
still queued or running until they end.  Output, summary and exit codes are
those of ``qtui run``/``qtui sweep`` (``qtui.cli.console_session.run_session``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qtui.cli.errors import fail


def reattach(args: argparse.Namespace) -> int:
    from qtui.cluster.jobs_folder import JobsFolderError, find_session, read_manifest
    from qtui.cluster.slurm_executor import SlurmExecutor
    from qtui.core.config import ConfigError, RunSpec
    from qtui.core.paths import check_output_path

    try:
        check_output_path("json", args.json, args.force)
    except ConfigError as exc:
        return fail(str(exc))
    try:
        folder = find_session(Path(args.jobs_dir).expanduser())
        manifest = read_manifest(folder)
        specs = [RunSpec.from_dict(job.spec) for job in manifest.jobs]
    except JobsFolderError as exc:
        return fail(f"jobs-dir: {exc}")
    except (KeyError, TypeError, ValueError) as exc:
        return fail(f"jobs-dir: {folder} holds a run spec qtui cannot read ({exc})")
    if not specs:
        return fail(f"jobs-dir: {folder} holds no submitted runs")
    from qtui.cli.console_session import run_session

    executor = SlurmExecutor(attach=folder, argv=manifest.argv)
    return run_session(
        specs,
        json_path=args.json,
        force=args.force,
        argv=manifest.argv,
        executor=executor,
        session_id=manifest.session_id,  # the same session: history completes its row
        renumber=False,
    )
