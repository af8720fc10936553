"""The ``process`` executor: each run trains in its own child process (the default).

How the child starts: by default it is forked from the session's pre-imported
fork server (``qtui.engine.forkserver``: torch and pennylane imported once per
session, ``ForkedRun``); ``--isolation spawn`` (``SpawnExecutor``), or a
machine where the server cannot run, starts a fresh interpreter per run, as
described below.  Everything else here is the same for both.

Why a child: a training loop in the UI process stalls the UI, its memory and
threads cannot be told apart from the UI's, a native crash would take the UI
down, and a run stuck in C++ cannot be stopped from a thread.

The child (``python -P -m qtui.engine.child``: the current directory is not on
its ``sys.path``, see ``qtui.engine.pycmd``) gets its ``RunSpec`` as one JSON
line on stdin and writes event lines to an inherited pipe (``QTUI_EVENT_FD``),
leaving stdout/stderr to the workload; their last ``TAIL_BYTES`` are kept for
crash reports (a ``show_output`` run, ``qtui exec``'s, writes to qtui's own
stdout and stderr instead).  It leads its own process group (``start_new_session``), so a
terminal's Ctrl-C reaches qtui only and cancel reaches the whole group.

Everything the run starts ends with it (``qtui.engine.reaper``): qtui is a
child subreaper, the run's processes are tracked (tag, tree, pid + start
time) and all SIGKILLed when the run ends, however it ends; a janitor process
does the same if qtui itself is killed, and the child dies with qtui
(``PR_SET_PDEATHSIG``).

Pipes are never waited on without a bound: a helper that escaped could hold
the child's stdout.  Each pipe has a reader thread that owns its descriptor
(only it closes it, so no thread is ever blocked in a read on a closed or
reused descriptor); it polls with a timeout, so when told to stop it stops.

A waiter thread notices the exit with ``waitid(WNOWAIT)`` *without* reaping,
so the supervisor stops sampling first and a recycled pid can never be sampled
or signalled; ``finish()`` then reaps with ``os.wait4`` for the OS's own peak
RSS (``ru_maxrss``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from qtui.core.config import RunSpec
from qtui.core.events import LogNote, decode
from qtui.engine import reaper
from qtui.engine.cpu_budget import OWN_PIDS_ENV
from qtui.engine.executor import Emit, Executor, LaunchError, RunEnd, RunHandle, Wake
from qtui.engine.pycmd import python_command

EVENT_FD_ENV = "QTUI_EVENT_FD"  # same name as qtui.engine.child (not imported: it is child-side)
CHILD_MODULE = "qtui.engine.child"

#: Bytes of the child's stdout/stderr kept for crash reports.
TAIL_BYTES = 16 * 1024
#: Seconds between looks at the run's process tree (helpers that may later escape it).
TRACK_EVERY_S = 1.0
#: After the run's processes are ended, how long the pipes may take to reach EOF.
PIPE_EOF_WAIT_S = 1.0


class SpawnExecutor(Executor):
    """A fresh interpreter per run (``--isolation spawn``): each run pays its imports.

    ``qtui.engine.forkserver.ProcessExecutor`` (the ``process`` default) builds
    on it: it forks runs from a pre-imported server and falls back to this.
    """

    name = "spawn"

    def __init__(self) -> None:
        # Orphans of a run come to us, not to init (see qtui.engine.reaper).
        reaper.become_subreaper()

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        return ProcessRun(spec, emit, wake)


class ProcessRun(RunHandle):
    """One child process: its pipe readers, exit waiter, tracker and janitor."""

    def __init__(self, spec: RunSpec, emit: Emit, wake: Wake) -> None:
        self.spec = spec
        self._emit = emit
        self._wake = wake
        self.stdout = bytearray()
        self.stderr = bytearray()
        self._exited = threading.Event()
        self._reaped = False
        self._closed = False
        self._readers: list[_PipeReader] = []
        self._known: set[reaper.ProcKey] = set()
        self._known_lock = threading.Lock()
        self.tag = reaper.new_tag()
        self.janitor = reaper.Janitor(self.tag)
        fds: list[int] = []
        try:
            r_ev, w_ev = os.pipe()
            fds += [r_ev, w_ev]
            r_out, w_out = os.pipe()
            fds += [r_out, w_out]
            r_err, w_err = os.pipe()
            fds += [r_err, w_err]
        except OSError as exc:
            _close_all(fds)
            self.janitor.close()
            raise LaunchError(f"could not start the child: {exc}") from exc
        env = run_env(self.tag)
        self.t0 = time.monotonic()
        # ``show_output`` (``qtui exec``): the child writes to qtui's own stdout and
        # stderr, as ``python script`` would; the pipes then just reach EOF.
        out, err = (1, 2) if spec.show_output else (w_out, w_err)
        try:
            self.pid = self._start(env, w_ev, out, err)
        except (OSError, LaunchError) as exc:
            _close_all(fds)
            self.janitor.close()
            if isinstance(exc, LaunchError):
                raise
            raise LaunchError(f"could not start the child: {exc}") from exc
        _close_all([w_ev, w_out, w_err])
        self.sample_pid = self.pid
        token = reaper.start_token(self.pid)
        if token is not None:
            self._known.add((self.pid, token))
        try:
            self._start_threads(r_ev, r_out, r_err)
        except BaseException:
            self.close()  # no handle reaches the supervisor: leave no child behind
            raise

    # --- how the child starts, ends and is reaped (a fork server overrides these) ------
    def _start(self, env: dict[str, str], w_ev: int, w_out: int, w_err: int) -> int:
        """Start the child with the event pipe, stdout and stderr; returns its pid."""
        env = {**env, EVENT_FD_ENV: str(w_ev), reaper.PARENT_PID_ENV: str(os.getpid()),
               OWN_PIDS_ENV: str(os.getpid())}  # qtui's CPU is not "others" (cpu_budget)
        proc = subprocess.Popen(
            python_command(CHILD_MODULE),
            stdin=subprocess.PIPE,
            stdout=w_out,
            stderr=w_err,
            pass_fds=(w_ev,),
            env=env,
            start_new_session=True,  # a terminal Ctrl-C reaches qtui only
        )
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.write((json.dumps(self.spec.to_dict(), separators=(",", ":")) + "\n").encode())
            proc.stdin.close()
        self.proc = proc
        return proc.pid

    def _wait_exited(self) -> None:
        """Block until the child has exited, *without* reaping it (see the module docstring)."""
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)

    def _reap_child(self) -> tuple[int | None, int]:
        """Reap the exited child: (wait status or None, peak RSS in bytes or 0)."""
        status, rusage = _reap(self.pid)
        return status, (_maxrss_bytes(rusage) if rusage is not None else 0)

    def _start_threads(self, r_ev: int, r_out: int, r_err: int) -> None:
        lines = _LineSplitter(self._event_line)
        self._readers = [
            _PipeReader(r_ev, lines.feed, lines.end, "qtui-events"),
            _PipeReader(r_out, _tail_sink(self.stdout), None, "qtui-stdout"),
            _PipeReader(r_err, _tail_sink(self.stderr), None, "qtui-stderr"),
        ]
        for t in self._readers:
            t.start()
        threading.Thread(target=self._await_exit, name="qtui-waiter", daemon=True).start()
        threading.Thread(target=self._track, name="qtui-tracker", daemon=True).start()

    # --- RunHandle ---------------------------------------------------------------
    def done(self) -> bool:
        return self._exited.is_set()

    def cancel(self) -> None:
        # The tree first: a helper in a session of its own with its environment
        # scrubbed is known only as the child's descendant, and once the child
        # dies it is reparented away (the tracker looks once a second).
        self._remember_tree()
        _signal_group(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        self._remember_tree()
        _signal_group(self.pid, signal.SIGKILL)
        self._end_processes()

    def finish(self) -> RunEnd:
        # Every process of the run goes first (the child is a zombie by now):
        # they may hold the pipes, and nothing of a finished run may live on.
        self._end_processes()
        status, peak_rss = self._reap_child()
        self._reaped = True
        self._stop_readers()
        sig_name: str | None = None
        code: int | None = None
        if status is not None and os.WIFSIGNALED(status):
            sig_name = signal_name(os.WTERMSIG(status))
        elif status is not None and os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
        tail = _tail_text(self.stderr) or _tail_text(self.stdout)
        if code == 0 and not tail:
            tail = "the child exited without reporting a result"
        return RunEnd(
            os_peak_rss=peak_rss,
            signal=sig_name,
            exit_code=code,
            detail=tail,
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._reaped:
            _signal_group(self.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # still our unreaped child: the pid is its
            self._end_processes()
            self._reap_child()
            self._reaped = True
        self._stop_readers()
        self._exited.set()  # stops the tracker
        self.janitor.close()

    # --- ending ------------------------------------------------------------------
    def _end_processes(self) -> None:
        """SIGKILL every process of the run but the child's zombie, and reap the orphans."""
        with self._known_lock:
            known = set(self._known)
        reaper.end_run(self.tag, known, keep_zombie=self.pid if not self._reaped else 0)

    def _stop_readers(self) -> None:
        """Wait (bounded) for the pipes' EOF, then tell the readers to stop; never unbounded."""
        deadline = time.monotonic() + PIPE_EOF_WAIT_S
        for t in self._readers:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        for t in self._readers:
            t.stop()
        for t in self._readers:
            t.join(timeout=0.5)

    # --- threads -----------------------------------------------------------------
    def _await_exit(self) -> None:
        """Wait for the child to exit *without* reaping it (see the module docstring)."""
        self._wait_exited()
        self._exited.set()
        self._wake()

    def _track(self) -> None:
        """Remember every process seen in the run's tree (by pid and start), until it ends."""
        while not self._exited.wait(TRACK_EVERY_S):
            self._remember_tree()

    def _remember_tree(self) -> None:
        """Add the run's tree as it is now to the processes known to belong to it."""
        for pid in reaper.descendants(self.pid):
            token = reaper.start_token(pid)
            if token is not None:
                with self._known_lock:
                    self._known.add((pid, token))

    def _event_line(self, raw: bytes) -> None:
        """Decode one of the child's event lines (bytes); a bad line becomes a note."""
        event, reason = decode(raw)  # keeps the line as its encoding
        if event is None:
            if reason != "empty line":
                snippet = raw.decode("utf-8", errors="replace").strip()[:200]
                self._emit(
                    LogNote(
                        message=f"run {self.spec.run_id}: skipped an event line "
                        f"({reason}): {snippet!r}"
                    )
                )
            return
        self._emit(event)


# --- pipes ---------------------------------------------------------------------


class _PipeReader(threading.Thread):
    """Reads one pipe to EOF, or until told to stop; owns (and closes) its descriptor.

    It sleeps in ``poll`` until the pipe has data or hangs up, or ``stop()``
    writes to a wake-up pipe of its own: no timeout, so an idle pipe (a run's
    stdout and stderr, mostly) never wakes qtui (issue 24: they used to look at
    their stop flag 10 times a second each)."""

    def __init__(
        self,
        fd: int,
        sink: Callable[[bytes], None],
        at_end: Callable[[], None] | None,
        name: str,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.fd = fd
        self._sink = sink
        self._at_end = at_end
        self._stop_flag = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._wake_lock = threading.Lock()  # the wake-up pipe is closed once, never written after

    def stop(self) -> None:
        """Read what is already in the pipe, then return (a writer may live on)."""
        self._stop_flag.set()
        with self._wake_lock:
            if self._wake_w >= 0:
                with contextlib.suppress(OSError):
                    os.write(self._wake_w, b"x")

    def run(self) -> None:
        poller = select.poll()
        poller.register(self.fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        poller.register(self._wake_r, select.POLLIN)
        try:
            while True:
                stopping = self._stop_flag.is_set()
                ready = [fd for fd, _ in poller.poll(0 if stopping else None) if fd == self.fd]
                if not ready:
                    if stopping:
                        break
                    continue  # stop() woke it: look at the flag
                chunk = os.read(self.fd, 65536)  # readable or hung up: does not block
                if not chunk:
                    break
                self._sink(chunk)
        except OSError:
            pass
        finally:
            os.close(self.fd)
            with self._wake_lock:
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_w = -1
            if self._at_end is not None:
                self._at_end()


class _LineSplitter:
    """Bytes in, complete lines out (the last one even without its newline)."""

    def __init__(self, on_line: Callable[[bytes], None]) -> None:
        self._on_line = on_line
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._buf.extend(chunk)
        start = 0
        while True:
            nl = self._buf.find(b"\n", start)
            if nl < 0:
                break
            self._on_line(bytes(self._buf[start : nl + 1]))
            start = nl + 1
        del self._buf[:start]

    def end(self) -> None:
        if self._buf:
            line, self._buf = bytes(self._buf), bytearray()
            self._on_line(line)


def _tail_sink(buf: bytearray, limit: int = TAIL_BYTES) -> Callable[[bytes], None]:
    """A sink that keeps only the last ``limit`` bytes of a child's output."""

    def sink(chunk: bytes) -> None:
        buf.extend(chunk)
        if len(buf) > limit:
            del buf[: len(buf) - limit]

    return sink


# --- helpers -------------------------------------------------------------------


def run_env(tag: str) -> dict[str, str]:
    """The environment a run's child gets: qtui's, with the run's tag (see ``reaper``)."""
    env = dict(os.environ)
    env[reaper.RUN_TAG_ENV] = tag
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("PYTHONFAULTHANDLER", "1")  # a Python traceback in the crash report
    return env


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


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


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_signal_name = signal_name  # the name the tests knew it by
