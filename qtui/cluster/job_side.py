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

Requeues: SLURM may end a job and run it again from the start (a node failure
with ``JobRequeue=1``, ``scontrol requeue``, preemption).  Each attempt appends
to the same event files, never truncates them; its first line in each is its
own ``session_started``, so the Nth ``session_started`` of a run's log opens
the job's Nth attempt, read the same way live and when re-attached.  qtui's
side (``qtui.cluster.slurm_executor.SlurmRun``) counts them and sends a
``job_state`` with that ``attempt`` and the node's machine at each; the fold
(``qtui.analysis.fold``) starts the run's figures (batches, losses, phases,
warnings) again at an attempt above 1, so they are those of the attempt that
finished, and records the attempts.  A run whose log already holds its
``run_finished``/``run_failed`` from an earlier attempt is not run again.

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
    """Appends each event to its run's JSONL file; session-level events to every file.

    Appended, never truncated: a requeued job's attempt follows the last one in the
    same file, after its own ``session_started`` (see the module docstring)."""

    def __init__(self, events: dict[str, str]) -> None:
        self.files: dict[str, IO[bytes]] = {}
        for run_id, path in events.items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.files[run_id] = open(path, "ab")  # noqa: SIM115 - closed in close()
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

    paths = {s["run_id"]: path for s, path in zip(specs, events, strict=True)}
    # A requeued job starts again from here: a run whose log has its result is not redone.
    ended = {run_id: end for run_id, path in paths.items() if (end := _result_in(path, run_id))}
    runs = [RunSpec.from_dict(s) for s in specs if s["run_id"] not in ended]
    router = _Router({r.run_id: paths[r.run_id] for r in runs})
    router.ends.update(ended)
    if not runs:
        router.close()
        return _verdict(router.ends, list(paths), events)
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
    return _verdict(router.ends, list(paths), events)


def _verdict(ends: dict[str, Any], run_ids: list[str], events: list[str]) -> str:
    """``"run_finished"`` when every run finished, else ``RunDidNotFinish`` naming the
    others (so sacct says FAILED for the job)."""
    unfinished = [
        f"{run_id}: {_why(ends.get(run_id))}"
        for run_id in run_ids
        if getattr(ends.get(run_id), "type", "") != "run_finished"
    ]
    if unfinished:
        raise RunDidNotFinish("; ".join(unfinished) + f" (logs in {Path(events[0]).parent})")
    return "run_finished"


def _result_in(path: str, run_id: str) -> Any:
    """The run's ``run_finished``/``run_failed`` in its log from an earlier attempt of this
    job (it was requeued after that run ended), else None."""
    from qtui.core.events import decode

    try:
        with open(path, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None  # the first attempt: nothing written yet
    for line in reversed(lines):
        event, _ = decode(line)
        if event is not None and event.type in ("run_finished", "run_failed") and getattr(
            event, "run_id", ""
        ) == run_id:
            return event
    return None


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
