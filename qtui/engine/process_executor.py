"""The ``process`` executor: each run trains in its own child process (the default).

Why a child: a training loop in the UI process stalls the UI, its memory and
threads cannot be told apart from the UI's, a native crash would take the UI
down, and a run stuck in C++ cannot be stopped from a thread.

The child (``python -m qtui.engine.child``) gets its ``RunSpec`` as one JSON
line on stdin and writes event lines to an inherited pipe (``QTUI_EVENT_FD``),
leaving stdout/stderr to the workload; their last ``TAIL_BYTES`` are kept for
crash reports.  It leads its own process group (``start_new_session``), so a
terminal's Ctrl-C reaches qtui only and cancel/kill reach the whole group.

A waiter thread notices the exit with ``waitid(WNOWAIT)`` *without* reaping,
so the supervisor stops sampling first and a recycled pid can never be sampled
or signalled; ``finish()`` then reaps with ``os.wait4`` for the OS's own peak
RSS (``ru_maxrss``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

from qtui.config import RunSpec
from qtui.engine.executor import Emit, Executor, LaunchError, RunEnd, RunHandle, Wake
from qtui.events import LogNote, decode

EVENT_FD_ENV = "QTUI_EVENT_FD"  # same name as qtui.engine.child (not imported: it is child-side)
CHILD_MODULE = "qtui.engine.child"

#: Bytes of the child's stdout/stderr kept for crash reports.
TAIL_BYTES = 16 * 1024


class ProcessExecutor(Executor):
    """Runs each ``RunSpec`` in ``python -m qtui.engine.child``."""

    name = "process"

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        return ProcessRun(spec, emit, wake)


class ProcessRun(RunHandle):
    """One child process: its pipe reader, output drains and exit waiter."""

    def __init__(self, spec: RunSpec, emit: Emit, wake: Wake) -> None:
        self.spec = spec
        self._emit = emit
        self._wake = wake
        self.stdout = bytearray()
        self.stderr = bytearray()
        self._exited = threading.Event()
        self._reaped = False
        self._threads: list[threading.Thread] = []
        r_fd, w_fd = os.pipe()
        env = dict(os.environ)
        env[EVENT_FD_ENV] = str(w_fd)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("PYTHONFAULTHANDLER", "1")  # a Python traceback in the crash report
        self.t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(
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
            raise LaunchError(f"could not start the child: {exc}") from exc
        os.close(w_fd)
        self.pid = self.sample_pid = self.proc.pid
        try:
            self._start_threads(spec, r_fd)
        except BaseException:
            self.close()  # no handle reaches the supervisor: leave no child behind
            raise

    def _start_threads(self, spec: RunSpec, r_fd: int) -> None:
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.write((json.dumps(spec.to_dict(), separators=(",", ":")) + "\n").encode())
            proc.stdin.close()
        self._threads = [
            threading.Thread(target=self._read_events, args=(r_fd,), name="qtui-events", daemon=True),
            threading.Thread(target=_drain_tail, args=(proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=_drain_tail, args=(proc.stderr, self.stderr), daemon=True),
        ]
        for t in self._threads:
            t.start()
        threading.Thread(target=self._await_exit, name="qtui-waiter", daemon=True).start()

    # --- RunHandle ---------------------------------------------------------------
    def done(self) -> bool:
        return self._exited.is_set()

    def cancel(self) -> None:
        _signal_group(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        _signal_group(self.pid, signal.SIGKILL)

    def finish(self) -> RunEnd:
        status, rusage = _reap(self.pid)
        self._reaped = True
        self.proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else -1
        # Leftovers of the run's process group (a workload's own subprocesses) go too.
        _signal_group(self.pid, signal.SIGKILL)
        for t in self._threads:
            t.join(timeout=2.0)
        sig_name: str | None = None
        code: int | None = None
        if status is not None and os.WIFSIGNALED(status):
            sig_name = _signal_name(os.WTERMSIG(status))
        elif status is not None and os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
        tail = _tail_text(self.stderr) or _tail_text(self.stdout)
        if code == 0 and not tail:
            tail = "the child exited without reporting a result"
        return RunEnd(
            os_peak_rss=_maxrss_bytes(rusage) if rusage is not None else 0,
            signal=sig_name,
            exit_code=code,
            detail=tail,
        )

    def close(self) -> None:
        if not self._reaped:
            _signal_group(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self._reaped = True
            self.proc.returncode = -9
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    # --- threads -----------------------------------------------------------------
    def _await_exit(self) -> None:
        """Wait for the child to exit *without* reaping it (see the module docstring)."""
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        self._exited.set()
        self._wake()

    def _read_events(self, fd: int) -> None:
        """Decode the child's event lines (read as bytes); a bad line becomes a note."""
        with open(fd, "rb") as f:
            for raw in f:
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
                    continue
                self._emit(event)


# --- helpers -------------------------------------------------------------------


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
