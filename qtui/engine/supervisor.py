"""The supervisor: runs a session's runs one at a time and turns everything into events.

Each run trains in its own child process (``python -m qtui.engine.child``), for
the reasons in DESIGN.md: a training loop in the UI process stalls the UI, its
memory and threads cannot be told apart from the UI's, a native crash would
take the UI down, and a run stuck in C++ cannot be stopped from a thread.  The
child writes event lines to an inherited pipe; a sampler thread here reads the
child's resources with psutil; this module adds the lifecycle events only it
can know: queued, crashed (signal / exit code), timed out, cancelled, and the
OS's own peak RSS of the reaped child (``os.wait4``), which replaces the
child's placeholder in ``run_finished``.

Threading: ``run()`` blocks and is the only thread that calls ``on_event`` (and
writes the JSONL log); the pipe reader, the output drains and the sampler post
to a queue that ``run()`` pumps.  ``cancel``, ``cancel_all`` and
``set_interval`` may be called from any thread.

Runs are sequential on purpose: parallel runs would distort each other's
timings and CPU readings.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal

from qtui import __version__
from qtui.config import RunSpec
from qtui.engine.sampler import DEFAULT_INTERVAL, Sampler
from qtui.events import (
    Event,
    LogNote,
    RunCancelled,
    RunCrashed,
    RunFinished,
    RunLaunched,
    RunQueued,
    RunRefused,
    RunTimedOut,
    SessionFinished,
    SessionStarted,
    decode,
)

Isolation = Literal["process", "thread"]
EVENT_FD_ENV = "QTUI_EVENT_FD"  # same name as qtui.engine.child (not imported: it is child-side)
CHILD_MODULE = "qtui.engine.child"

#: Seconds between SIGTERM and SIGKILL when a run is cancelled or times out.
KILL_GRACE_S = 1.0
#: Bytes of the child's stdout/stderr kept for crash reports.
TAIL_BYTES = 16 * 1024

_WAKE = object()  # queue sentinel: something changed, look again


@dataclass
class _RunState:
    """What the supervisor learns about the current run from its threads."""

    spec: RunSpec
    held_finished: RunFinished | None = None
    terminal: str | None = None  # type of a terminal event already forwarded
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)


class Supervisor:
    """Run ``specs`` in order; report every event to ``on_event``.

    ``session_id``, ``machine``, ``argv`` and ``refused`` go into the first
    event (``session_started``); ``refused`` entries (``device``,
    ``diff_method``, ``reason``) are also emitted as ``run_refused`` events.
    """

    def __init__(
        self,
        specs: list[RunSpec],
        on_event: Callable[[Event], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        events_path: str | os.PathLike[str] | None = None,
        isolation: Isolation = "process",
        session_id: str | None = None,
        machine: dict[str, Any] | None = None,
        argv: list[str] | None = None,
        refused: list[dict[str, Any]] | None = None,
        kill_grace_s: float = KILL_GRACE_S,
    ) -> None:
        if isolation not in ("process", "thread"):
            raise ValueError(f"isolation must be 'process' or 'thread', got {isolation!r}")
        self.specs = [
            s if s.run_id else s.with_id(f"r{i + 1}") for i, s in enumerate(specs)
        ]
        ids = [s.run_id for s in self.specs]
        if len(set(ids)) != len(ids):
            raise ValueError("run ids must be unique")
        self.on_event = on_event
        self.events_path = Path(events_path) if events_path is not None else None
        self.isolation: Isolation = isolation
        self.session_id = session_id or uuid.uuid4().hex[:12]
        self.machine = machine
        self.argv = list(sys.argv) if argv is None else list(argv)
        self.refused = list(refused or [])
        self.kill_grace_s = kill_grace_s
        self._interval = _clamp_interval(interval)
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._cancel_ids: set[str] = set()
        self._cancel_all = False
        self._pending: list[str] = list(ids)  # not started, not reported as cancelled
        self._current: str | None = None
        self._sampler: Sampler | None = None
        self._log: IO[str] | None = None

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

    def cancel_all(self) -> None:
        """Stop the current run and skip the rest; the session ends as interrupted."""
        with self._lock:
            self._cancel_all = True
        self._q.put(_WAKE)

    @property
    def interrupted(self) -> bool:
        return self._cancel_all

    # --- the session ------------------------------------------------------------
    def run(self) -> None:
        """Run the whole session; returns when every run has a terminal event."""
        with self._open_log():
            if self.machine is None:
                from qtui.machine import machine_info

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
            for spec in self.specs:
                self._flush_queued_cancels()
                with self._lock:
                    if spec.run_id not in self._pending:
                        continue
                    self._pending.remove(spec.run_id)
                    self._current = spec.run_id
                try:
                    if self.isolation == "thread":
                        self._run_thread(spec)
                    else:
                        self._run_process(spec)
                finally:
                    with self._lock:
                        self._current = None
            self._flush_queued_cancels()
            self._deliver(SessionFinished(session_id=self.session_id, interrupted=self._cancel_all))

    # --- delivery (run() thread only) --------------------------------------------
    @contextlib.contextmanager
    def _open_log(self) -> Iterator[None]:
        if self.events_path is None:
            yield
            return
        self.events_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.events_path, "w", buffering=1, encoding="utf-8") as f:
            self._log = f
            try:
                yield
            finally:
                self._log = None

    def _deliver(self, event: Event) -> None:
        if self._log is not None:
            self._log.write(event.to_json() + "\n")
            self._log.flush()
        self.on_event(event)

    def _pump(self, timeout: float) -> None:
        """Deliver whatever the threads posted, waiting up to ``timeout`` for the first."""
        try:
            item = self._q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return
        while True:
            if isinstance(item, Event):
                self._deliver(item)
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
            if isinstance(item, Event):
                self._deliver(item)

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
        for r in gone:
            self._deliver(RunCancelled(run_id=r, reason=reason))

    def _stop_requested(self, run_id: str) -> bool:
        with self._lock:
            return self._cancel_all or run_id in self._cancel_ids

    def _cancel_reason(self) -> str:
        return "session cancelled" if self._cancel_all else "cancelled"

    # --- process isolation --------------------------------------------------------
    def _run_process(self, spec: RunSpec) -> None:
        state = _RunState(spec)
        r_fd, w_fd = os.pipe()
        env = dict(os.environ)
        env[EVENT_FD_ENV] = str(w_fd)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("PYTHONFAULTHANDLER", "1")  # a Python traceback in the crash report
        t_spawn = time.monotonic()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", CHILD_MODULE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(w_fd,),
                env=env,
                start_new_session=True,  # a terminal Ctrl-C reaches qtui only
            )
        except OSError as exc:
            os.close(r_fd)
            os.close(w_fd)
            self._deliver(
                RunCrashed(
                    run_id=spec.run_id,
                    signal=None,
                    exit_code=None,
                    stderr_tail=f"could not start the child: {exc}",
                )
            )
            return
        os.close(w_fd)
        pid = proc.pid
        self._deliver(RunLaunched(run_id=spec.run_id, pid=pid, isolation="process"))
        reaped = False
        threads: list[threading.Thread] = []
        sampler: Sampler | None = None
        try:
            assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
            with contextlib.suppress(BrokenPipeError, OSError):
                proc.stdin.write((_spec_json(spec) + "\n").encode())
                proc.stdin.close()
            reader = threading.Thread(
                target=self._read_events, args=(r_fd, state), name="qtui-events", daemon=True
            )
            threads = [
                reader,
                threading.Thread(
                    target=_drain_tail, args=(proc.stdout, state.stdout), daemon=True
                ),
                threading.Thread(
                    target=_drain_tail, args=(proc.stderr, state.stderr), daemon=True
                ),
            ]
            for t in threads:
                t.start()
            exited = threading.Event()
            threading.Thread(
                target=self._await_exit, args=(pid, exited), name="qtui-waiter", daemon=True
            ).start()
            try:
                sampler = Sampler(pid, spec.run_id, self._q.put, interval=self._interval, t0=t_spawn)
                with self._lock:
                    self._sampler = sampler
                sampler.start()
            except Exception:  # noqa: BLE001 - the child may already be gone
                sampler = None

            outcome: str | None = None
            kill_at: float | None = None
            deadline = t_spawn + spec.timeout_s if spec.timeout_s else None
            while not exited.is_set():
                now = time.monotonic()
                wait = 0.25
                if deadline is not None and outcome is None:
                    wait = min(wait, deadline - now)
                if kill_at is not None:
                    wait = min(wait, kill_at - now)
                self._pump(wait)
                self._flush_queued_cancels()
                if exited.is_set():
                    break
                now = time.monotonic()
                if outcome is None:
                    if self._stop_requested(spec.run_id):
                        outcome = "cancelled"
                    elif deadline is not None and now >= deadline:
                        outcome = "timed_out"
                    if outcome is not None:
                        _signal_group(pid, signal.SIGTERM)
                        kill_at = now + self.kill_grace_s
                elif kill_at is not None and now >= kill_at:
                    _signal_group(pid, signal.SIGKILL)
                    kill_at = None

            if sampler is not None:
                sampler.stop()
            status, rusage = _reap(pid)
            reaped = True
            proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else -1
            # Leftovers of the run's process group (a workload's own subprocesses) go too.
            _signal_group(pid, signal.SIGKILL)
            for t in threads:
                t.join(timeout=2.0)
            self._drain()
            self._finish_process_run(state, outcome, status, rusage, sampler)
        finally:
            with self._lock:
                self._sampler = None
            if sampler is not None:
                sampler.stop()
            if not reaped:
                _signal_group(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
                proc.returncode = -9
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()

    def _await_exit(self, pid: int, exited: threading.Event) -> None:
        """Wait for the child to exit *without* reaping it, so the sampler stops first
        and a recycled pid can never be sampled or signalled."""
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        exited.set()
        self._q.put(_WAKE)

    def _read_events(self, fd: int, state: _RunState) -> None:
        """Decode the child's event lines; hold ``run_finished`` for the reap."""
        with open(fd, encoding="utf-8", errors="replace", newline="\n") as f:
            for line in f:
                event, reason = decode(line)
                if event is None:
                    if reason != "empty line":
                        snippet = line.strip()[:200]
                        self._q.put(
                            LogNote(
                                message=f"run {state.spec.run_id}: skipped an event line "
                                f"({reason}): {snippet!r}"
                            )
                        )
                    continue
                if isinstance(event, RunFinished):
                    state.held_finished = event
                    continue
                if event.type in ("run_failed", "run_crashed", "run_timed_out", "run_cancelled"):
                    state.terminal = event.type
                self._q.put(event)

    def _finish_process_run(
        self,
        state: _RunState,
        outcome: str | None,
        status: int | None,
        rusage: Any,
        sampler: Sampler | None,
    ) -> None:
        spec = state.spec
        s_peak_rss = sampler.peak_rss if sampler else 0
        s_peak_threads = sampler.peak_threads if sampler else 0
        if state.terminal is not None:
            return  # run_failed (or similar) was already forwarded
        if state.held_finished is not None:
            fin = state.held_finished
            peak = _maxrss_bytes(rusage) if rusage is not None else 0
            self._deliver(
                replace(
                    fin,
                    peak_rss=peak or max(fin.peak_rss, s_peak_rss),
                    peak_threads=max(fin.peak_threads, s_peak_threads),
                )
            )
            return
        if outcome == "cancelled":
            self._deliver(RunCancelled(run_id=spec.run_id, reason=self._cancel_reason()))
            return
        if outcome == "timed_out":
            self._deliver(RunTimedOut(run_id=spec.run_id, timeout_s=float(spec.timeout_s or 0)))
            return
        sig_name: str | None = None
        code: int | None = None
        if status is not None and os.WIFSIGNALED(status):
            sig_name = _signal_name(os.WTERMSIG(status))
        elif status is not None and os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
        tail = _tail_text(state.stderr) or _tail_text(state.stdout)
        if code == 0 and not tail:
            tail = "the child exited without reporting a result"
        self._deliver(RunCrashed(run_id=spec.run_id, signal=sig_name, exit_code=code, stderr_tail=tail))

    # --- thread isolation ---------------------------------------------------------
    def _run_thread(self, spec: RunSpec) -> None:
        """Train in a thread of this process (``--isolation thread``: no separation of
        memory, threads or crashes from the caller; cancellation waits for the next
        batch)."""
        from qtui.engine.trainer import Cancelled, run_training

        state = _RunState(spec)
        stop = threading.Event()
        result: dict[str, Any] = {}

        def emit(event: Event) -> None:
            if isinstance(event, RunFinished):
                state.held_finished = event
            else:
                if event.type in ("run_failed",):
                    state.terminal = event.type
                self._q.put(event)

        def target() -> None:
            try:
                result["ok"] = run_training(spec, emit, stop.is_set)
            except Cancelled:
                result["cancelled"] = True
            except BaseException as exc:  # noqa: BLE001 - reported as a crash
                import traceback

                result["crash"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            finally:
                self._q.put(_WAKE)

        t_start = time.monotonic()
        sampler = Sampler(os.getpid(), spec.run_id, self._q.put, interval=self._interval, t0=t_start)
        with self._lock:
            self._sampler = sampler
        sampler.start()
        worker = threading.Thread(target=target, name=f"qtui-run-{spec.run_id}", daemon=True)
        self._deliver(RunLaunched(run_id=spec.run_id, pid=os.getpid(), isolation="thread"))
        worker.start()
        outcome: str | None = None
        deadline = t_start + spec.timeout_s if spec.timeout_s else None
        try:
            while worker.is_alive():
                wait = 0.25
                if deadline is not None and outcome is None:
                    wait = min(wait, deadline - time.monotonic())
                self._pump(wait)
                self._flush_queued_cancels()
                if outcome is None:
                    if self._stop_requested(spec.run_id):
                        outcome = "cancelled"
                    elif deadline is not None and time.monotonic() >= deadline:
                        outcome = "timed_out"
                    if outcome is not None:
                        stop.set()
            worker.join()
        finally:
            sampler.stop()
            with self._lock:
                self._sampler = None
        self._drain()
        if state.terminal is not None:
            return
        if state.held_finished is not None:
            fin = state.held_finished
            self._deliver(
                replace(
                    fin,
                    peak_rss=max(fin.peak_rss, sampler.peak_rss),
                    peak_threads=max(fin.peak_threads, sampler.peak_threads),
                )
            )
        elif outcome == "timed_out":
            self._deliver(RunTimedOut(run_id=spec.run_id, timeout_s=float(spec.timeout_s or 0)))
        elif outcome == "cancelled" or result.get("cancelled"):
            self._deliver(RunCancelled(run_id=spec.run_id, reason=self._cancel_reason()))
        else:
            self._deliver(
                RunCrashed(
                    run_id=spec.run_id,
                    signal=None,
                    exit_code=None,
                    stderr_tail=result.get("crash", "the run ended without reporting a result"),
                )
            )


# --- helpers -------------------------------------------------------------------


def _spec_json(spec: RunSpec) -> str:
    import json

    return json.dumps(spec.to_dict(), separators=(",", ":"))


def _clamp_interval(seconds: float) -> float:
    return min(10.0, max(0.01, float(seconds)))


def _drain_tail(stream: IO[bytes], buf: bytearray, limit: int = TAIL_BYTES) -> None:
    """Read a child's output to EOF, keeping only the last ``limit`` bytes."""
    read = getattr(stream, "read1", stream.read)
    with contextlib.suppress(OSError, ValueError):
        while True:
            chunk = read(65536)
            if not chunk:
                return
            buf.extend(chunk)
            if len(buf) > limit:
                del buf[: len(buf) - limit]


def _tail_text(buf: bytearray, lines: int = 40) -> str:
    text = bytes(buf).decode("utf-8", errors="replace").rstrip()
    return "\n".join(text.splitlines()[-lines:])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the run's process group (the child leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _reap(pid: int) -> tuple[int | None, Any]:
    try:
        _, status, rusage = os.wait4(pid, 0)
    except ChildProcessError:
        return None, None
    return status, rusage


def _maxrss_bytes(rusage: Any) -> int:
    """``ru_maxrss`` is KiB on Linux and bytes on macOS."""
    value = int(rusage.ru_maxrss)
    return value if sys.platform == "darwin" else value * 1024


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
