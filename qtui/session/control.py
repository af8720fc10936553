"""Run control shared by the TUI and the headless CLI: no Textual here.

``SessionController`` owns what starting, steering and ending a session of
runs means, so ``qtui run``/``qtui sweep`` (``qtui.cli.console_session.run_session``) and
the TUI (``qtui.ui.app``) do it one way:

* ``start(specs, ...)`` numbers the runs (``r1``, ``r2``, ... across the whole
  controller, so a second submission never reuses an id) and runs them on a
  ``Supervisor`` in a worker thread; started while a session is active, the
  submission waits (its runs are announced ``queued`` at once) and starts when the
  current session ends, in the same thread.
* ``cancel(run_id)`` cancels a waiting run without starting it, or asks the
  supervisor to stop a running or queued one; ``cancel_all()`` does both for
  every run; ``set_interval`` changes the sampling of the current run too.
* a submission may carry its own ``executor`` (``start(..., executor=...)``: a cluster
  session's ``SlurmExecutor``); it runs that submission only, instead of the shared
  local one, and is closed when that submission's session ends (a SLURM executor then
  cancels its unfinished jobs, unless they were left running).
* ``executor=`` (constructor): an executor the caller owns and keeps warm (a test
  suite's one fork server, shared by every session); it serves every local
  submission and the controller never closes it.  Without it the controller makes
  its own from ``isolation`` and closes it when idle (or, ``keep_warm``, at ``stop()``).
* ``follow(path)`` feeds the events of a growing JSONL log instead (``qtui
  watch``), on a thread that ``stop()`` ends.
* what a finished session leaves: ``error`` (the exception the supervisor
  raised, if any) and the ``on_finished`` callback; the events themselves went
  to ``on_event``.

Callbacks (``on_event``, ``on_launch``, ``on_finished``, ``on_follow_done``)
run on the worker threads: a UI must hand them over to its own thread (the
TUI's ``EventFeed`` and ``post_message`` are thread-safe).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # at run time each is imported where used: the app builds a controller before its
    # first frame, which draws no event (tests/test_app_lightness.py)
    from qtui.core import events as ev
    from qtui.core.config import RunSpec
    from qtui.engine.executor import Executor

#: Set (to anything) to keep sessions out of the history: ``qtui run``/``sweep`` and the TUI.
NO_HISTORY_ENV = "QTUI_NO_HISTORY"
#: Seconds after the app starts before its fork server is started (after the first frame).
PREWARM_AFTER_S = 1.0
#: How much lower the prewarm's imports run than the app (nice; the runs keep the app's).
PREWARM_NICE = 10

OnEvent = Callable[["ev.Event"], None]
#: Wraps a session's ``on_event`` (e.g. to also record it in the history); called
#: once per session, on the worker thread, just before the supervisor starts.
Recorder = Callable[[OnEvent], OnEvent]


@dataclass
class Submission:
    """Runs submitted together: one supervisor session.  (Not a training batch:
    that is ``qtui.core.events.Batch``.)"""

    specs: list[RunSpec]
    interval: float
    refused: list[dict[str, Any]] = field(default_factory=list)
    events_path: str | None = None
    argv: list[str] | None = None
    on_event: Any = None  # what the supervisor reports to (the recorder, when recording)
    planner: Any = None  # --repeat auto (qtui.session.adaptive.AdaptiveRepeats), or None
    executor: Any = None  # this submission's own executor (a cluster's), closed when it ends
    session_id: str | None = None  # a re-attached cluster session's own id (else a new one)


@dataclass(frozen=True)
class Started:
    """What ``start`` did: the numbered specs, and whether they wait for the current session."""

    specs: list[RunSpec]
    queued: bool


class SessionController:
    """Starts, steers and ends sessions of runs; thread-safe, Textual-free."""

    def __init__(
        self,
        on_event: OnEvent,
        *,
        isolation: str = "process",
        record: Recorder | None = None,
        on_launch: Callable[[Submission], object] | None = None,
        on_finished: Callable[[BaseException | None], object] | None = None,
        first_run: int = 0,
        supervisor_options: dict[str, Any] | None = None,
        keep_warm: bool = False,
        executor: Executor | None = None,
        prewarm: bool = False,
    ) -> None:
        self.on_event = on_event
        self.isolation = isolation
        # One executor serves every submission of a busy spell (the process executor's fork
        # server, torch and pennylane imported once); it ends when the controller goes
        # idle, or with keep_warm (the TUI) only at stop(), so a later start is warm too.
        # One given here is the caller's: used for every local submission, never closed.
        self.keep_warm = keep_warm
        self._executor: Any = executor
        self._owns_executor = executor is None
        self.record = record
        self.on_launch = on_launch
        self.on_finished = on_finished
        self.supervisor_options = dict(supervisor_options or {})  # e.g. machine, kill_grace_s
        self.error: BaseException | None = None
        self.interval = 0.1
        self._counter = first_run
        self._repeats: dict[tuple[str, str, Any], int] = {}  # combination+params -> runs so far
        self._lock = threading.Lock()
        self._pending: list[Submission] = []
        self._submission: Submission | None = None  # the submission whose session is active
        self._supervisor: Any = None
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._stop_follow = threading.Event()
        self._follower: threading.Thread | None = None
        self._stopped = False
        self._prewarm_timer: threading.Timer | None = None
        if prewarm and keep_warm and executor is None and isolation == "process":
            # The app's first ctrl+r must not wait 4-10 s for torch and pennylane (issue 24):
            # start the fork server a moment after the first frame, in the background.
            self._prewarm_timer = threading.Timer(PREWARM_AFTER_S, self.prewarm)
            self._prewarm_timer.daemon = True
            self._prewarm_timer.start()

    # state --------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """A supervisor session is running (or about to start the next waiting submission)."""
        return not self._idle.is_set()

    @property
    def pending(self) -> bool:
        """Runs are waiting for the current session to end."""
        with self._lock:
            return bool(self._pending)

    @property
    def busy(self) -> bool:
        """Something to cancel: a session is active or runs wait."""
        return self.active or self.pending

    @property
    def interrupted(self) -> bool:
        sup = self._supervisor
        return bool(sup is not None and sup.interrupted)

    @property
    def cluster_executor(self) -> Any:
        """The active submission's own cluster executor (it can leave its jobs running:
        ``detach``), or None when the active session runs locally or none is active."""
        with self._lock:
            submission = self._submission if not self._idle.is_set() else None
        executor = submission.executor if submission is not None else None
        return executor if executor is not None and hasattr(executor, "detach") else None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no session is active; False on timeout."""
        return self._idle.wait(timeout)

    # starting -----------------------------------------------------------------------
    def number(self, specs: Sequence[RunSpec]) -> list[RunSpec]:
        """``r<n>`` ids, counting on from every run this controller numbered before,
        and repeat numbers that continue too: the same combination with the same
        parameters started twice in a session is ``#1`` then ``#2``, not ``#1`` twice."""
        out = []
        with self._lock:
            for spec in specs:
                self._counter += 1
                key = (spec.device, spec.diff_method, spec.params)
                repeat = self._repeats.get(key, 0)
                self._repeats[key] = repeat + 1
                spec = dataclasses.replace(spec, repeat_index=repeat)
                out.append(spec.with_id(f"r{self._counter}"))
        return out

    def start(
        self,
        specs: Sequence[RunSpec],
        *,
        interval: float = 0.1,
        refused: Sequence[dict[str, Any]] = (),
        events_path: str | None = None,
        argv: list[str] | None = None,
        renumber: bool = True,
        planner: Any = None,
        executor: Any = None,
        session_id: str | None = None,
    ) -> Started:
        """Run ``specs`` now, or after the current session when one is active.

        ``renumber=False`` keeps the ids of specs already numbered by ``number``
        (or by the session re-attached to); later runs are numbered after them.
        ``executor``: this submission's own (a ``SlurmExecutor``), closed when its
        session ends, or when the submission is dropped before it started.
        ``session_id``: the id of the session re-attached to (its history row is
        completed, not doubled); None for a new session.
        """
        numbered = self.number(specs) if renumber else list(specs)
        if not renumber:
            self._count_past(numbered)
        if not numbered:
            if executor is not None:
                executor.close()
            return Started([], False)
        submission = Submission(
            numbered, interval, list(refused), events_path, argv, planner=planner,
            executor=executor, session_id=session_id,
        )
        with self._lock:
            if not self._idle.is_set():
                self._pending.append(submission)
                queued = True
            else:
                self._idle.clear()
                self.error = None
                queued = False
        if queued:
            from qtui.core import events as ev

            # shown as waiting now; the supervisor announces them again when they start
            for s in numbered:
                self.on_event(ev.RunQueued(run_id=s.run_id, spec=s.to_dict()))
        else:
            self._thread = threading.Thread(
                target=self._drive, args=(submission,), name="qtui-supervisor", daemon=True
            )
            self._thread.start()
        return Started(numbered, queued)

    def _count_past(self, specs: Sequence[RunSpec]) -> None:
        """Number later runs after ``r<n>`` ids given from outside (a re-attached session)."""
        with self._lock:
            for spec in specs:
                digits = spec.run_id[1:] if spec.run_id.startswith("r") else ""
                if digits.isdigit():
                    self._counter = max(self._counter, int(digits))

    def _supervisor_for(self, submission: Submission) -> Any:
        from qtui.engine.supervisor import Supervisor

        on_event = self.record(self.on_event) if self.record is not None else self.on_event
        submission.on_event = on_event
        options = dict(self.supervisor_options)
        if submission.planner is not None:
            options["planner"] = submission.planner
        if options.get("planner") is not None:
            options["number"] = self.number  # planned runs count on like the others
        if submission.session_id is not None:
            options["session_id"] = submission.session_id
        if submission.executor is not None:
            options["executor"] = submission.executor
        elif "executor" not in options:
            with self._lock:
                if self._executor is None:
                    from qtui.engine.executor import get_executor

                    self._executor = get_executor(self.isolation)
                options["executor"] = self._executor
        return Supervisor(
            submission.specs,
            on_event,
            interval=submission.interval,
            events_path=submission.events_path,
            isolation=self.isolation,
            refused=submission.refused,
            argv=submission.argv,
            **options,
        )

    def prewarm(self) -> None:
        """Make the shared executor and start its fork server now (a daemon thread's
        work: it imports torch and pennylane, at ``PREWARM_NICE`` below the app so the
        form stays responsive).  A run that starts meanwhile waits for that same server
        (``ForkServerStarter`` starts one at a time; ``starting_since`` says since when);
        the start note goes to the first run."""
        with self._lock:
            if self._stopped:  # quit before the timer fired: start nothing
                return
            if self._executor is None:
                from qtui.engine.executor import get_executor

                self._executor = get_executor(self.isolation)
            executor = self._executor
        warm = getattr(executor, "warm", None)
        if callable(warm):
            warm(tell_first_run=True, nice=PREWARM_NICE)

    def starting_since(self) -> float | None:
        """Since when (``time.monotonic()``) a run has waited for the shared executor's
        fork server to import torch and pennylane; None while none waits (the app's
        status line, issue 24)."""
        since = getattr(self._executor, "waiting_since", None)
        return since if isinstance(since, float) else None

    def _close_executor(self) -> None:
        """End the shared executor (its fork server); the next start makes a new one."""
        if not self._owns_executor:
            return  # the caller's (``executor=``): it stays as it is
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()

    def _drive(self, submission: Submission | None) -> None:
        """The worker thread: one supervisor session per submission, until none waits."""
        error: BaseException | None = None
        while submission is not None:
            try:
                sup = self._supervisor_for(submission)
                with self._lock:
                    self._supervisor = sup
                    self._submission = submission
                    self.interval = sup.interval
                if self.on_launch is not None:
                    self.on_launch(submission)
                sup.run()
            except BaseException as exc:  # noqa: BLE001 - boundary: kept in self.error and handed to on_finished
                error = exc
            finally:
                # A session that raised before session_finished still flushes its
                # history now (the recorder's close waits, bounded), not at exit.
                close = getattr(submission.on_event, "close", None)
                if callable(close):
                    close()
                if submission.executor is not None:
                    try:  # a cluster's: cancels its unfinished jobs unless left running
                        submission.executor.close()
                    except Exception as exc:  # noqa: BLE001 - boundary: handed to on_finished; the next submission still runs
                        error = error or exc
                    error = error or _uncancelled(submission.executor)
            with self._lock:
                submission = self._pending.pop(0) if self._pending else None
            if submission is None:
                if not self.keep_warm:
                    self._close_executor()  # before idle: a session leaves no process behind
                with self._lock:  # a submission started meanwhile runs now; else idle, atomically
                    submission = self._pending.pop(0) if self._pending else None
                    if submission is None:
                        self.error = error
                        self._idle.set()
        if self.on_finished is not None:
            self.on_finished(error)

    # steering -----------------------------------------------------------------------
    def set_interval(self, seconds: float) -> None:
        """Sample the current run (and the rest of its session) every ``seconds``."""
        self.interval = seconds
        sup = self._supervisor
        if sup is not None and self.active:
            sup.set_interval(seconds)

    def cancel(self, run_id: str) -> str | None:
        """Cancel one run: ``"dropped"`` if it waited for a later session (it never
        starts), ``"asked"`` if the supervisor stops it, None if no session is active."""
        emptied: list[Submission] = []
        with self._lock:
            for submission in self._pending:
                if any(s.run_id == run_id for s in submission.specs):
                    submission.specs[:] = [s for s in submission.specs if s.run_id != run_id]
                    emptied = [b for b in self._pending if not b.specs]
                    self._pending = [b for b in self._pending if b.specs]
                    dropped = True
                    break
            else:
                dropped = False
            sup = self._supervisor if not self._idle.is_set() else None
        for submission in emptied:
            if submission.executor is not None:
                submission.executor.close()  # never prepared: nothing was submitted
        if dropped:
            from qtui.core import events as ev

            self.on_event(ev.RunCancelled(run_id=run_id, reason="cancelled before it started"))
            return "dropped"
        if sup is not None:
            sup.cancel(run_id)
            return "asked"
        return None

    def cancel_all(self, *, leave_running: bool = False) -> bool:
        """Drop every waiting run and stop the current session; True if a session was
        active (waiting runs are only dropped).  ``leave_running``: a cluster session's
        jobs go on; only watching stops (``Supervisor.cancel_all``)."""
        with self._lock:
            dropped, self._pending = self._pending, []
            sup = self._supervisor if not self._idle.is_set() else None
        for submission in dropped:
            for s in submission.specs:
                from qtui.core import events as ev

                self.on_event(ev.RunCancelled(run_id=s.run_id, reason="not started: cancelled"))
            if submission.executor is not None:
                submission.executor.close()  # never prepared: nothing was submitted
        if sup is not None:
            sup.cancel_all(leave_running=leave_running)
        return sup is not None

    def stop(self, timeout: float = 5.0) -> bool:
        """End everything (runs, follower) and wait up to ``timeout``; True when idle."""
        with self._lock:
            self._stopped = True
        if self._prewarm_timer is not None:
            self._prewarm_timer.cancel()
            if self._prewarm_timer is not threading.current_thread():
                abort = getattr(self._executor, "abort_start", None)
                if self._prewarm_timer.is_alive() and self._owns_executor and callable(abort):
                    abort()  # quitting: the prewarm's imports end now, not in seconds
                self._prewarm_timer.join(timeout)  # a start under way ends before the close
        self._stop_follow.set()
        self.cancel_all()
        idle = self.wait(timeout)
        if idle:
            self._close_executor()
        follower = self._follower
        if follower is not None and follower is not threading.current_thread():
            follower.join(timeout)
        return idle

    # watching a log ------------------------------------------------------------------
    def follow(
        self, path: Path, on_done: Callable[[str | None], object] | None = None
    ) -> None:
        """Feed the events of the JSONL log at ``path`` as it grows, until ``stop()``."""

        def loop() -> None:
            from qtui.core.logtail import follow

            error = None
            try:
                follow(path, self.on_event, self._stop_follow)
            except Exception as exc:  # noqa: BLE001 - boundary: reported through on_done
                error = f"{type(exc).__name__}: {exc}"
            if on_done is not None:
                on_done(error)

        self._follower = threading.Thread(target=loop, name="qtui-follow", daemon=True)
        self._follower.start()


def _uncancelled(executor: Any) -> Exception | None:
    """The jobs a cluster executor could not cancel (they may still be running), as
    an error for ``on_finished``: after its session, no note of theirs reaches anyone."""
    uncancelled = getattr(executor, "uncancelled", None)
    why = uncancelled() if uncancelled is not None else None
    if why is None:
        return None
    from qtui.cluster.slurm_executor import SchedulerError

    return SchedulerError(why)


def history_enabled() -> bool:
    """False when ``QTUI_NO_HISTORY`` is on (set, and not 0/false/no/off/empty): no front
    end records the session then.  The one place that reads it (TUI and ``qtui run``)."""
    from qtui.core.env import env_flag

    return not env_flag(NO_HISTORY_ENV)


def exit_lines(summary: Any, *, recorded: bool, exported: Sequence[Path] = ()) -> list[str]:
    """What ran, printed after the TUI restores the screen, so quitting never hides results."""
    runs = summary.ordered_runs()
    if not runs:
        return []
    from qtui.core import units

    counts: dict[str, int] = {}
    for r in runs:
        word = r.state.replace("_", " ")  # left running: a cluster job qtui stopped watching
        counts[word] = counts.get(word, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines = [f"qtui: {len(runs)} run(s): {parts}"]
    for c in summary.combos():
        if c.mean is not None:
            label = c.label or c.combo
            rel = units.times(c.relative or 1)
            lines.append(f"  {label:<36} {units.seconds(c.mean)}  ({rel})")
    if recorded:
        lines.append("  recorded in the history: `qtui history` lists sessions")
    lines.extend(f"  exported {p}" for p in exported)
    return lines
