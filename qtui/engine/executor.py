"""The executor seam: how one run is started, watched, stopped and ended.

The supervisor (``qtui.engine.supervisor``) owns the session: ordering, the
timeout clock, cancellation requests, the JSONL log, sampling and the events
only it can know.  *Where* a run executes is an executor's business: a child
process on this machine (``process``), a thread of this process (``thread``),
or later a cluster job whose job-side supervisor writes events to a JSONL file
in a shared folder that qtui follows.  The supervisor's loop is the same for
all of them; it never asks which one it is driving.

Contract (see also docs/ARCHITECTURE.md, "Executors"):

* ``Executor.launch(spec, emit, wake)`` starts the run and returns a
  ``RunHandle`` at once (no waiting for imports).  From then on the executor
  calls ``emit(event)`` from any thread of its own for every event the run
  produces (pipe reader, file follower, in-process trainer callback), in the
  order they happened, and ``wake()`` when the run's state changed (it ended)
  so the supervisor looks again without waiting for its next tick.  A launch
  that cannot start raises ``LaunchError``; the supervisor reports it as a
  crash.
* The supervisor polls ``handle.done()``, calls ``handle.cancel()`` once on a
  cancel request or a timeout, and ``handle.kill()`` once ``kill_grace_s``
  later if the run is still going.  When ``done()`` is true it stops its own
  sampler, then calls ``handle.finish()`` (reap, join readers, deliver what is
  left through ``emit``) which returns a ``RunEnd``; ``handle.close()`` runs in
  every case, also when the supervisor itself fails, and must leave nothing
  running.
* Sampling: ``handle.sample_pid`` names a process on this machine for the
  supervisor's sampler to read from outside (the child, or this process in
  thread mode).  ``None`` means the executor delivers its own ``sample``
  events (a job-side supervisor samples on the compute node) or that nothing
  can be sampled.
* The supervisor holds a ``run_finished`` that arrives through ``emit`` until
  ``finish()`` and merges into it the figures it measured (the OS peak RSS in
  ``RunEnd.os_peak_rss``, the sampler's peaks and GPU figures).  Any other
  terminal event arriving through ``emit`` (``run_failed`` ...) is forwarded at
  once and ends the run's reporting.

* Cluster executors (``qtui.cluster``) get four more calls, no-ops for the
  local ones: ``prepare(specs, emit, ...)`` with every spec of the session
  before the first launch (and again with the runs a planner adds), so a whole
  sweep is submitted as one job array; ``discard(run_id)`` for a run cancelled
  before it was launched (its job must not go on running); ``detach()`` before
  a cancel that should leave the jobs running (quit and re-attach later);
  ``wind_up()`` after the last run, before the session ends (the jobs' final
  states and accounting, which the scheduler says after the runs' ends).  A
  handle whose run enforces its own time limit (the job-side supervisor does)
  sets ``enforces_timeout`` so the supervisor starts no clock of its own.

Registry: ``EXECUTORS`` maps a name (the ``isolation=`` argument, the
``--isolation`` flag) to ``"module:Class"``, imported only when used so an
executor's dependencies (submitit, say) cost nothing to the others.  Adding an
executor is one new file plus one line here.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from qtui.core.config import RunSpec
from qtui.core.events import Event

#: Executor name -> "module:Class".  One line per executor.
EXECUTORS: dict[str, str] = {
    "process": "qtui.engine.forkserver:ProcessExecutor",
    "thread": "qtui.engine.thread_executor:ThreadExecutor",
    "spawn": "qtui.engine.process_executor:SpawnExecutor",
    "slurm": "qtui.cluster.slurm_executor:SlurmExecutor",
}

Emit = Callable[[Event], None]
Wake = Callable[[], None]


class LaunchError(Exception):
    """The run could not be started; the message says why (it becomes ``run_crashed``)."""


@dataclass
class RunEnd:
    """How a run ended, as far as its executor knows (what the supervisor cannot see).

    ``signal``/``exit_code``/``detail`` are used only when the run reported no
    terminal event of its own and was neither cancelled nor timed out: they
    become ``run_crashed``.  ``detail`` is the crash text (stderr tail,
    traceback), already defaulted by the executor.
    """

    os_peak_rss: int = 0  # bytes, the OS's own figure for the run's process; 0 unknown
    signal: str | None = None
    exit_code: int | None = None
    cancelled: bool = False  # the run itself stopped on request (thread mode's Cancelled)
    detail: str = ""
    # A cluster job: how the scheduler says it ended (SLURM's word, see events.JobState),
    # and the time limit it ran into (``run_timed_out`` rather than a crash).
    scheduler_state: str = ""
    timed_out_s: float | None = None
    # What killed it when not the run itself (the fork server's death): run_crashed.cause
    cause: str = ""


class RunHandle(ABC):
    """One launched run.  Methods are called from the supervisor's thread only."""

    #: The run's pid where one exists (``run_launched.pid``); 0 if none (a cluster job).
    pid: int = 0
    #: A local pid the supervisor samples from outside; None: the executor samples.
    sample_pid: int | None = None
    #: ``time.monotonic()`` when the run was started: the timeout and ``wall_s`` count from it.
    t0: float = 0.0
    #: The run applies ``spec.timeout_s`` itself (a cluster job's own supervisor does).
    enforces_timeout: bool = False

    @abstractmethod
    def done(self) -> bool:
        """True once the run has ended (its process exited, its thread returned)."""

    @abstractmethod
    def cancel(self) -> None:
        """Ask the run to stop (SIGTERM, a stop flag, a job cancel).  Called at most once."""

    def kill(self) -> None:  # noqa: B027 - optional: a thread cannot be killed
        """Force the run to stop after the grace period; a no-op where impossible."""

    @abstractmethod
    def finish(self) -> RunEnd:
        """After ``done()``: collect the outcome (reap, join readers, emit what is left)."""

    @abstractmethod
    def close(self) -> None:
        """Release everything; if the run is still going, end it.  Safe to call twice."""


class Executor(ABC):
    """Starts runs somewhere.  One instance serves a whole session, one run at a time."""

    #: Registry name; also ``run_launched.isolation``.
    name: ClassVar[str] = ""

    @abstractmethod
    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        """Start ``spec``; return at once.  Raises ``LaunchError`` if it cannot start."""

    def prepare(  # noqa: B027 - optional: local executors start runs one by one
        self, specs: list[RunSpec], emit: Emit, *, session_id: str, interval: float
    ) -> None:
        """Every run of the session, before the first ``launch`` (a cluster executor
        submits them as one job array here); ``emit`` takes session-level events
        (``job_state``) from any thread.  Called again with runs added later."""

    def session_info(self, session_id: str) -> dict[str, Any]:
        """What ``session_started.executor`` records (a cluster's jobs folder); {} locally."""
        return {}

    def discard(self, run_id: str) -> None:  # noqa: B027 - optional
        """A prepared run was cancelled before its launch: make sure it never runs."""

    def detach(self) -> None:  # noqa: B027 - optional
        """Leave prepared runs running: ``cancel``/``close`` from now on only stop watching."""

    def wind_up(self) -> None:  # noqa: B027 - optional
        """Every run has ended, the session has not: post through ``prepare``'s ``emit``
        what is still to say (a cluster's final job states and accounting)."""

    def close(self) -> None:  # noqa: B027 - optional: most executors keep nothing
        """End what the executor keeps between runs (the process executor's fork server).

        Called by whoever made the executor when its session is over: the
        supervisor for one it built from a name, the session controller for the
        one it shares between batches.  Safe to call twice.
        """


def executor_names() -> list[str]:
    """The registered executor names (the values ``--isolation`` accepts)."""
    return list(EXECUTORS)


def get_executor(name: str, **options: Any) -> Executor:
    """A new executor by registry name; ``ValueError`` for an unknown one."""
    target = EXECUTORS.get(name)
    if target is None:
        names = ", ".join(repr(n) for n in EXECUTORS)
        raise ValueError(f"isolation must be one of {names}, got {name!r}")
    module, _, cls_name = target.partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    executor = cls(**options)
    if not isinstance(executor, Executor):
        raise TypeError(f"{target} is not an Executor")
    return executor



def register(name: str, target: str) -> None:
    """Register an executor from outside this file (a plugin): ``target`` is "module:Class"."""
    EXECUTORS[name] = target
