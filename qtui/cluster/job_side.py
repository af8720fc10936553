"""What runs inside a cluster job, on the compute node: its runs, measured there.

submitit pickles ``run_job`` with its arguments and calls it in the job.  It
runs the same supervisor, executor (children from one fork server) and
sampler as a local session, on the node: per-core CPU of *that* node, each
run's RSS, threads, cores and the contention of other processes, and the
node's own ``machine_info`` in each log's first line.  Every event goes to its
run's JSONL file in the shared jobs folder, flushed line by line; the qtui
process follows those files (``qtui.cluster.slurm_executor``).  Nothing is
sampled across the network.

A job holds one run, or several with ``--runs-per-job``: they run one after
another from the same warm fork server, so torch and pennylane are imported
once per job instead of once per run.  Session-level events (the node's
``session_started``, notes) go to every run's file.

Control from qtui: cancelling one run of a job that holds several cannot be a
``scancel`` (that would end the others), so qtui drops a file
``cancel/<run_id>`` in the session folder; a thread here polls for it and
cancels that run.  SIGTERM (``scancel`` of the job, its time limit) cancels
every run, so each log ends with a terminal event where the node allows it;
submitit's early time-limit warning (SIGUSR2) is ignored, see ``run_job``.

A job any of whose runs did not finish fails (``RunDidNotFinish``), so the
scheduler's accounting (``sacct``) says FAILED for it too; the reason of each
run is in its log.

The job's interpreter starts with the current folder off ``sys.path``
(``job_python``), as every local child does (``qtui.engine.pycmd``): a job runs
in the folder qtui was started from, and submitit's ``python -m
submitit.core._submit`` would otherwise import a ``submitit.py`` or
``cloudpickle.py`` lying there, with the user's rights on every node.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

#: Seconds between looks for cancel files.
CANCEL_POLL_S = 0.5


class RunDidNotFinish(RuntimeError):
    """A run of the job failed, crashed, timed out or was cancelled (see its events)."""


class _Router:
    """Writes each event to its run's JSONL file; session-level events to every file."""

    def __init__(self, events: dict[str, str]) -> None:
        self.files: dict[str, IO[bytes]] = {}
        for run_id, path in events.items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.files[run_id] = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.ends: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        from qtui.core.events import TERMINAL_TYPES, encoded

        line = encoded(event) + b"\n"
        run_id = getattr(event, "run_id", None)
        targets = [self.files[run_id]] if run_id in self.files else (
            [] if run_id else list(self.files.values())
        )
        for f in targets:
            f.write(line)
            f.flush()
        if run_id and event.type in TERMINAL_TYPES:
            self.ends[run_id] = event

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def _watch_cancels(folder: Path, run_ids: list[str], sup: Any, stop: threading.Event) -> None:
    """Cancel a run when qtui drops ``cancel/<run_id>`` into the session folder."""
    done: set[str] = set()
    while not stop.wait(CANCEL_POLL_S):
        for run_id in run_ids:
            if run_id not in done and (folder / "cancel" / run_id).exists():
                done.add(run_id)
                sup.cancel(run_id)


def run_job(
    specs: list[dict[str, Any]], events: list[str], interval: float, session_id: str,
    folder: str,
) -> str:
    """Run ``specs`` one after another on this node, each writing its events to the
    matching file of ``events``; returns ``"run_finished"`` when every run finished,
    else raises ``RunDidNotFinish`` naming the others."""
    from qtui.core.config import RunSpec
    from qtui.engine.supervisor import Supervisor

    runs = [RunSpec.from_dict(s) for s in specs]
    router = _Router({r.run_id: path for r, path in zip(runs, events, strict=True)})
    stop = threading.Event()
    try:
        sup = Supervisor(runs, router, interval=interval, isolation="process",
                         session_id=session_id)
        watcher = threading.Thread(
            target=_watch_cancels, args=(Path(folder), [r.run_id for r in runs], sup, stop),
            name="qtui-job-cancels", daemon=True,
        )
        watcher.start()
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: sup.cancel_all())
        # submitit warns a job with SIGUSR2 90 s before its time limit and, for a function
        # that cannot checkpoint, ends it there with an error: SLURM would then say FAILED,
        # 90 s early.  A qtui run cannot resume, so it trains on and SLURM's own limit ends
        # it: sacct says TIMEOUT, and so does qtui.  (Children inherit the ignored signal.)
        previous_usr2 = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        try:
            sup.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGUSR2, previous_usr2)
    finally:
        stop.set()
        router.close()
    unfinished = [
        f"{r.run_id}: {_why(router.ends.get(r.run_id))}"
        for r in runs
        if getattr(router.ends.get(r.run_id), "type", "") != "run_finished"
    ]
    if unfinished:
        raise RunDidNotFinish("; ".join(unfinished) + f" (logs in {Path(events[0]).parent})")
    return "run_finished"


def _why(end: Any) -> str:
    if end is None:
        return "no terminal event"
    detail = getattr(end, "message", "") or getattr(end, "reason", "") or getattr(
        end, "signal", ""
    ) or ""
    return f"{end.type}{': ' + str(detail) if detail else ''}"


#: For Python 3.10 (no ``-P``): drop the ``''`` entry ``-c`` puts first on ``sys.path``
#: before anything is imported, then do what the ``-u -m MODULE ARGS`` submitit
#: appends would have done (the same idea as ``qtui.engine.pycmd.BOOTSTRAP``).
JOB_BOOTSTRAP = (
    "import sys\n"
    "if sys.path and sys.path[0] in ('', '.'):\n"
    "    del sys.path[0]\n"
    "args = sys.argv[1:]\n"
    "if args[:1] == ['-u']:\n"
    "    args.pop(0)\n"
    "    sys.stdout.reconfigure(write_through=True)\n"
    "    sys.stderr.reconfigure(write_through=True)\n"
    "if args[:1] == ['-m']:\n"
    "    args.pop(0)\n"
    "import runpy\n"
    "sys.argv[:] = args\n"
    "runpy.run_module(args[0], run_name='__main__', alter_sys=True)\n"
)


def job_python(safe_path: bool | None = None) -> str:
    """The ``python`` submitit writes into a job's command line (it appends ``-u -m
    submitit.core._submit FOLDER``), with the current folder off ``sys.path``:
    ``python -P`` where the interpreter has it (3.11+), the bootstrap otherwise.
    ``safe_path`` forces one form (tests)."""
    if safe_path is None:
        safe_path = sys.version_info >= (3, 11)
    exe = shlex.quote(sys.executable)
    return f"{exe} -P" if safe_path else f"{exe} -c {shlex.quote(JOB_BOOTSTRAP)}"
