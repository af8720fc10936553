"""The supervisor: runs a session's runs one at a time and turns everything into events.

Where a run executes is an executor's business (``qtui.engine.executor``: a
child process by default, a thread with ``isolation="thread"``); this module
owns what is common to all of them: the session framing, the order of runs,
the timeout clock, cancel requests (``cancel``, then ``kill`` after
``kill_grace_s``), the JSONL log, sampling the run's process from outside
(``qtui.engine.sampler``, when the executor names a local pid), and the
lifecycle events only it can know: queued, launched, crashed, timed out,
cancelled.  It holds the run's own ``run_finished`` until the run has ended
and merges into it what it measured: the OS's peak RSS of the reaped child
(``ru_maxrss``, from the executor), the sampler's peaks and GPU figures.

Threading: ``run()`` blocks and is the only thread that calls ``on_event`` (and
writes the JSONL log); the executor's threads (pipe reader, waiter) and the
sampler post to a queue that ``run()`` pumps.  ``cancel``, ``cancel_all`` and
``set_interval`` may be called from any thread.  ``on_event`` should return
quickly: the timeout and cancellation are enforced from the same loop (the
history database is written by ``qtui.store.history_writer``'s own thread).

Runs are sequential on purpose: parallel runs would distort each other's
timings and CPU readings.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import replace as with_changes
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import psutil

from qtui import __version__
from qtui.core.config import RunSpec
from qtui.core.events import (
    TERMINAL_TYPES,
    Event,
    LogNote,
    RunCancelled,
    RunCrashed,
    RunFinished,
    RunLaunched,
    RunQueued,
    RunRefused,
    RunStarted,
    RunTimedOut,
    SessionFinished,
    SessionStarted,
    encoded,
    replace,
)
from qtui.core.paths import open_output_file, script_output_dir
from qtui.engine import oom
from qtui.engine.event_log import EventLog
from qtui.engine.executor import Executor, LaunchError, RunEnd, RunHandle, get_executor
from qtui.engine.sampler import DEFAULT_INTERVAL, Sampler, contended_threshold


class Planner(Protocol):
    """Adds runs to a session as it goes (``qtui.session.adaptive.AdaptiveRepeats``)."""

    def observe(self, event: Event) -> None: ...

    def more(self) -> list[RunSpec]: ...


#: The built-in executors' names; ``isolation=`` accepts any registered one.
Isolation = Literal["process", "thread"]

#: Seconds between cancel (SIGTERM) and kill (SIGKILL) when a run is cancelled or times out.
KILL_GRACE_S = 1.0

_WAKE = object()  # queue sentinel: something changed, look again


@dataclass
class _RunState:
    """What the supervisor learns about the current run from its events."""

    spec: RunSpec
    held_finished: RunFinished | None = None
    terminal: str | None = None  # type of a terminal event already forwarded


class Supervisor:
    """Run ``specs`` in order; report every event to ``on_event``.

    ``session_id``, ``machine``, ``argv`` and ``refused`` go into the first
    event (``session_started``); ``refused`` entries (``device``,
    ``diff_method``, ``reason``) are also emitted as ``run_refused`` events.
    ``isolation`` names a registered executor ("process", "thread", ...);
    ``executor``, an instance, takes its place when given.  ``clock`` times
    the run's timeout and the kill grace; it must count from the same origin as
    the executor's ``handle.t0`` (``time.monotonic``): a test passes
    ``time.monotonic() + offset`` and moves the offset to reach a deadline
    without waiting it out.
    """

    def __init__(
        self,
        specs: list[RunSpec],
        on_event: Callable[[Event], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        events_path: str | os.PathLike[str] | None = None,
        isolation: Isolation | str = "process",
        session_id: str | None = None,
        machine: dict[str, Any] | None = None,
        argv: list[str] | None = None,
        refused: list[dict[str, Any]] | None = None,
        kill_grace_s: float = KILL_GRACE_S,
        executor: Executor | None = None,
        planner: Planner | None = None,
        number: Callable[[list[RunSpec]], list[RunSpec]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._executor = executor if executor is not None else get_executor(isolation)
        # One built here is closed here, at the end of run() (its fork server with it);
        # one handed in belongs to the caller (a session controller keeps it warm).
        self._owns_executor = executor is None
        self.session_id = session_id or uuid.uuid4().hex[:12]
        self.specs = [
            self._keeps_output(s if s.run_id else s.with_id(f"r{i + 1}"))
            for i, s in enumerate(specs)
        ]
        ids = [s.run_id for s in self.specs]
        if len(set(ids)) != len(ids):
            raise ValueError("run ids must be unique")
        self.on_event = on_event
        self.events_path = Path(events_path) if events_path is not None else None
        self.isolation: str = self._executor.name
        self.machine = machine
        self.argv = list(sys.argv) if argv is None else list(argv)
        self.refused = list(refused or [])
        self.kill_grace_s = kill_grace_s
        self._clock = clock
        self.planner = planner
        self.number = number  # ids for planned runs (the TUI's ids continue across sessions)
        self._interval = _clamp_interval(interval)
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._cancel_ids: set[str] = set()
        self._cancel_all = False
        self._detached = False  # cancel_all(leave_running=True): jobs go on without us
        self._prepare_error: str | None = None  # a cluster submission that failed
        self._pending: list[str] = list(ids)  # not started, not reported as cancelled
        self._current: str | None = None
        self._sampler: Sampler | None = None
        self._run: _RunState | None = None  # the current run (run() thread only)
        self._oom_before = oom.OomCounters({})  # at the current run's launch
        self._log: EventLog | None = None

    # --- control (any thread) ---------------------------------------------------
    @property
    def interval(self) -> float:
        return self._interval

    def set_interval(self, seconds: float) -> None:
        """Change the sampling interval, for the current run too."""
        self._interval = _clamp_interval(seconds)
        with self._lock:
            sampler = self._sampler
        if sampler is not None:
            sampler.set_interval(self._interval)

    def cancel(self, run_id: str) -> None:
        """Cancel one run: stop it if running, skip it if queued."""
        with self._lock:
            self._cancel_ids.add(run_id)
        self._q.put(_WAKE)

    def cancel_all(self, *, leave_running: bool = False) -> None:
        """Stop the current run and skip the rest; the session ends as interrupted.

        ``leave_running`` (cluster executors): stop *watching* instead; the jobs
        go on and ``qtui watch --jobs-dir`` re-attaches to them later.
        """
        if leave_running:
            self._executor.detach()
        with self._lock:
            self._cancel_all = True
            self._detached = self._detached or leave_running
        self._q.put(_WAKE)

    @property
    def interrupted(self) -> bool:
        return self._cancel_all

    # --- the session ------------------------------------------------------------
    def run(self) -> None:
        """Run the whole session; returns when every run has a terminal event."""
        try:
            self._run_session()
        finally:
            if self._owns_executor:
                self._executor.close()

    def _run_session(self) -> None:
        cpu0 = _own_cpu_s()
        with self._open_log():
            if self.machine is None:
                from qtui.engine.machine import machine_info

                self.machine = machine_info()
            self._deliver(
                SessionStarted(
                    session_id=self.session_id,
                    machine=self.machine,
                    qtui_version=__version__,
                    argv=self.argv,
                    runs=[s.to_dict() for s in self.specs],
                    refused=self.refused,
                    n_cpus=os.cpu_count() or 0,
                    executor=self._executor.session_info(self.session_id),
                )
            )
            for r in self.refused:
                self._deliver(
                    RunRefused(
                        device=str(r.get("device", "")),
                        diff_method=str(r.get("diff_method", "")),
                        reason=str(r.get("reason", "")),
                    )
                )
            for spec in self.specs:
                self._deliver(RunQueued(run_id=spec.run_id, spec=spec.to_dict()))
            self._prepare(self.specs)
            i = 0
            while i < len(self.specs) or self._plan_more():
                spec = self.specs[i]
                i += 1
                self._flush_queued_cancels()
                with self._lock:
                    if spec.run_id not in self._pending:
                        continue
                    self._pending.remove(spec.run_id)
                    self._current = spec.run_id
                try:
                    self._run_one(spec)
                finally:
                    with self._lock:
                        self._current = None
            self._flush_queued_cancels()
            self._executor.wind_up()  # a cluster's last words: final states, accounting
            self._drain()  # job states posted after the last run
            self._deliver(SessionFinished(
                session_id=self.session_id, interrupted=self._cancel_all,
                # qtui's own cost (issue 24); not where the runs trained in this process
                qtui_cpu_s=None if self.isolation == "thread" else _own_cpu_s() - cpu0,
            ))

    def _plan_more(self) -> bool:
        """Ask the planner (``--repeat auto``) for another pass; queue it; True if any."""
        if self.planner is None or self._cancel_all:
            return False
        extra = self.planner.more()
        if not extra:
            return False
        if self.number is not None:
            specs = self.number(extra)
        else:
            start = len(self.specs)
            specs = [s.with_id(f"r{start + k + 1}") for k, s in enumerate(extra)]
        specs = [self._keeps_output(s) for s in specs]
        with self._lock:
            self._pending += [s.run_id for s in specs]
        self.specs += specs
        for s in specs:
            self._deliver(RunQueued(run_id=s.run_id, spec=s.to_dict()))
        self._prepare(specs)
        return True

    def _keeps_output(self, spec: RunSpec) -> RunSpec:
        """A ``qtui exec`` run keeps its script's whole output in the session's folder
        (``script_output_dir``), named here, in this process: a forked child's
        environment is the fork server's, whose data folder may be another's."""
        if not spec.command or spec.output_dir:
            return spec
        return with_changes(spec, output_dir=str(script_output_dir(self.session_id)))

    def _prepare(self, specs: list[RunSpec]) -> None:
        """Hand the executor every run before the first launch (a cluster job array)."""
        try:
            self._executor.prepare(
                list(specs), self._q.put, session_id=self.session_id, interval=self._interval
            )
        except LaunchError as exc:
            self._prepare_error = str(exc)  # each of these runs is reported as a crash

    # --- delivery (run() thread only) --------------------------------------------
    @contextlib.contextmanager
    def _open_log(self) -> Iterator[None]:
        if self.events_path is None:
            yield
            return
        # a failed open or write moves the log under the data folder (qtui.engine.event_log)
        self._log = EventLog(self.events_path, self._open_events, self.session_id)
        try:
            yield
        finally:
            self._log.close()
            self._log = None

    @staticmethod
    def _open_events(path: Path) -> IO[bytes]:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a regular file only, never blocking on a FIFO (qtui.core.paths)
        return open_output_file(path)

    def _deliver(self, event: Event) -> None:
        if self.planner is not None:
            self.planner.observe(event)
        moved = None
        if self._log is not None:  # the bytes encoded once (or as read)
            moved = self._log.write(encoded(event) + b"\n")
        self.on_event(event)
        if moved is not None:  # the log failed: say why and where it went on
            self._deliver(LogNote(message=moved))

    def _posted(self, item: Any) -> None:
        """An item the run's threads posted: hold its ``run_finished``, note a terminal."""
        if not isinstance(item, Event):
            return  # _WAKE
        run = self._run
        if isinstance(item, RunFinished):
            if run is not None and item.run_id == run.spec.run_id:
                run.held_finished = item  # delivered by _finish_run, with the merged figures
            return  # a late one of an earlier run was never going to be delivered
        if run is not None and item.type in TERMINAL_TYPES:
            run.terminal = item.type
        if isinstance(item, RunStarted) and run is not None and item.run_id == run.spec.run_id:
            with self._lock:
                sampler = self._sampler
            if sampler is not None:
                sampler.contention.training()  # imports and build are not contention
        self._deliver(item)

    def _pump(self, timeout: float) -> None:
        """Deliver whatever the threads posted, waiting up to ``timeout`` for the first."""
        try:
            item = self._q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return
        while True:
            self._posted(item)
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                return

    def _drain(self) -> None:
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                return
            self._posted(item)

    def _flush_queued_cancels(self) -> None:
        """Report queued runs that were cancelled before they started."""
        with self._lock:
            if self._cancel_all:
                gone = list(self._pending)
                reason = "not started: session cancelled"
            else:
                gone = [r for r in self._pending if r in self._cancel_ids]
                reason = "cancelled before it started"
            for r in gone:
                self._pending.remove(r)
            if self._detached:
                reason = "not watched: left to the cluster"
        for r in gone:
            if not self._detached:
                self._executor.discard(r)  # a submitted job must not run for nobody
            self._deliver(RunCancelled(run_id=r, reason=reason, left_running=self._detached))

    def _start_sampler(self, spec: RunSpec, handle: RunHandle) -> Sampler | None:
        """Sample the run's process; if that cannot start (the child is already gone,
        no thread left), the run goes on unsampled and a note says so and why."""
        pid = handle.sample_pid
        assert pid is not None
        try:
            sampler = Sampler(pid, spec.run_id, self._q.put, interval=self._interval, t0=handle.t0)
            with self._lock:
                self._sampler = sampler
            sampler.start()
        except (psutil.Error, OSError, RuntimeError) as exc:
            with self._lock:
                self._sampler = None
            self._deliver(LogNote(message=(
                f"run {spec.run_id}: not sampled (no CPU, memory or GPU figures): the "
                f"sampler could not start on pid {pid}: {type(exc).__name__}: {exc}"
            )))
            return None
        return sampler

    def _stop_requested(self, run_id: str) -> bool:
        with self._lock:
            return self._cancel_all or run_id in self._cancel_ids

    def _cancel_reason(self) -> str:
        if self._detached:
            return "not watched: left to the cluster"
        return "session cancelled" if self._cancel_all else "cancelled"

    # --- one run (any executor) -------------------------------------------------
    def _run_one(self, spec: RunSpec) -> None:
        """Launch ``spec`` through the executor and see it to its terminal event.

        The loop is the same for every executor: pump events, apply cancel
        requests and the timeout (``cancel``, then ``kill`` after the grace),
        until the handle says the run is over.
        """
        self._run = _RunState(spec)
        try:
            if self._prepare_error is not None:
                raise LaunchError(self._prepare_error)
            self._oom_before = oom.counters()  # compared after a SIGKILL (qtui.engine.oom)
            handle = self._executor.launch(spec, self._q.put, self._wake)
        except LaunchError as exc:
            self._run = None
            self._deliver(
                RunCrashed(run_id=spec.run_id, signal=None, exit_code=None, stderr_tail=str(exc))
            )
            return
        sampler: Sampler | None = None
        try:
            self._deliver(
                RunLaunched(run_id=spec.run_id, pid=handle.pid, isolation=self._executor.name)
            )
            if handle.sample_pid is not None:
                sampler = self._start_sampler(spec, handle)

            outcome: str | None = None
            kill_at: float | None = None
            deadline = (
                handle.t0 + spec.timeout_s
                if spec.timeout_s and not handle.enforces_timeout
                else None
            )
            while not handle.done():
                now = self._clock()
                wait = 0.25
                if deadline is not None and outcome is None:
                    wait = min(wait, deadline - now)
                if kill_at is not None:
                    wait = min(wait, kill_at - now)
                self._pump(wait)
                self._flush_queued_cancels()
                if handle.done():
                    break
                now = self._clock()
                if outcome is None:
                    if self._stop_requested(spec.run_id):
                        outcome = "cancelled"
                    elif deadline is not None and now >= deadline:
                        outcome = "timed_out"
                    if outcome is not None:
                        handle.cancel()
                        kill_at = now + self.kill_grace_s
                elif kill_at is not None and now >= kill_at:
                    handle.kill()
                    kill_at = None

            if sampler is not None:
                sampler.stop()  # before finish(): a reaped pid may be recycled
            end = handle.finish()
            self._drain()
            self._finish_run(outcome, end, sampler)
        finally:
            with self._lock:
                self._sampler = None
            if sampler is not None:
                sampler.stop()
            handle.close()
            self._run = None

    def _wake(self) -> None:
        self._q.put(_WAKE)

    def _finish_run(self, outcome: str | None, end: RunEnd, sampler: Sampler | None) -> None:
        """The run's one terminal event: its own, the held ``run_finished`` with the
        supervisor's measurements merged in, or one only the supervisor can know."""
        state = self._run
        assert state is not None
        spec = state.spec
        if state.terminal is not None:
            return  # run_failed (or similar) was already forwarded
        if state.held_finished is not None:
            self._deliver(_merge_finished(state.held_finished, end, sampler))
            return
        sched = end.scheduler_state
        if outcome == "cancelled" or (outcome is None and end.cancelled):
            self._deliver(
                RunCancelled(
                    run_id=spec.run_id, reason=self._cancel_reason(), scheduler_state=sched,
                    left_running=self._detached, detail=end.detail,
                )
            )
            return
        if outcome == "timed_out" or end.timed_out_s is not None:
            limit = end.timed_out_s if end.timed_out_s is not None else spec.timeout_s
            self._deliver(
                RunTimedOut(run_id=spec.run_id, timeout_s=float(limit or 0), scheduler_state=sched,
                            detail=end.detail)
            )
            return
        self._deliver(
            RunCrashed(
                run_id=spec.run_id, signal=end.signal, exit_code=end.exit_code,
                stderr_tail=end.detail, scheduler_state=sched,
                cause=self._crash_cause(end, sampler),
            )
        )

    def _crash_cause(self, end: RunEnd, sampler: Sampler | None) -> str:
        """What killed a local run, when it was not the run itself: its executor's word
        (the fork server's death), and an OOM kill read from the kernel's counters or
        the last sample's RSS (``qtui.engine.oom``)."""
        if sampler is None:  # not a local process (a cluster job: the scheduler says)
            return end.cause
        last = sampler.last.rss if sampler.last is not None else None
        memory = oom.oom_cause(self._oom_before, oom.counters(), end.signal, last)
        return "; ".join(c for c in (end.cause, memory) if c)


def _merge_finished(fin: RunFinished, end: RunEnd, sampler: Sampler | None) -> RunFinished:
    """``run_finished`` with the OS peak RSS (else the sampler's), the sampler's peaks
    and its GPU figures (unless the run's own event already carries them)."""
    changes: dict[str, Any] = {
        "peak_rss": end.os_peak_rss or max(fin.peak_rss, sampler.peak_rss if sampler else 0),
        "peak_threads": max(fin.peak_threads, sampler.peak_threads if sampler else 0),
    }
    if sampler is not None and sampler.contention.mean is not None:
        mean = sampler.contention.mean
        changes["contention_cores"] = mean
        changes["contention_cores_max"] = round(sampler.contention.max, 3)
        changes["contended"] = mean >= contended_threshold(os.cpu_count() or 1)
    if sampler is not None and sampler.gpu.readings and not fin.gpu_mem_scope:
        changes["gpu_util_mean"] = sampler.gpu.util_mean
        changes["gpu_mem_peak"] = sampler.gpu.mem_peak
        changes["gpu_mem_scope"] = sampler.gpu.mem_scope
    merged = replace(fin, **changes)
    assert isinstance(merged, RunFinished)
    return merged


# --- helpers -------------------------------------------------------------------


def _own_cpu_s() -> float:
    """This process's CPU seconds, every thread, its children excluded (``getrusage``:
    microseconds, where ``os.times``, the fallback, counts 10-ms clock ticks)."""
    try:
        import resource
    except ImportError:
        t = os.times()
        return t.user + t.system
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _clamp_interval(seconds: float) -> float:
    return min(10.0, max(0.01, float(seconds)))
