"""Fast start: each run is forked from a pre-imported interpreter (issue 9, item 5).

A spawned child pays ~3-5 s of interpreter start and torch/pennylane imports
before its first step; on the default sweep that was 5.7x the measured
training.  Here one server process per session imports them once
(``qtui.engine.forkserver_main``) and forks a fresh process per run, so every
run still has its own memory, threads, crash isolation, process group and
``ru_maxrss``, and the per-run ``import_s`` drops to ~0.  The server's one-time
cost is reported as a note when it starts.

Decision: a fork server of our own, not ``multiprocessing``'s forkserver.
``ProcessRun`` (``qtui.engine.process_executor``) already owns everything a
run's child needs: the event pipe, stdout/stderr capture with crash tails, the
run tag, PDEATHSIG, its own session, the tracker and janitor, and ``wait4``
for the OS's peak RSS; only *how the process starts, is seen to exit and is
reaped* differs, and ``ForkedRun`` overrides just those three.  multiprocessing
would have us rebuild that on top of its own process object: its server is
started with ``-c`` and the parent's ``sys.path`` (the cwd back on the path,
issue 11, item 11), the run's stdout/stderr are the server's, its children are
reaped by the server without their rusage, and it gives no pid-stable way to
wait for an exit without reaping.  Ours is ~250 lines, in the same shape:

* **Start**: lazily, at a session's first run, from a thread of its own that
  lives as long as the server (``PR_SET_PDEATHSIG`` fires when the *thread*
  that forked ends, not the process), with ``python -P -m`` (cwd off
  ``sys.path``, ``qtui.engine.pycmd``), in its own session, with
  ``OPENBLAS_NUM_THREADS=1`` (fork safety: no pool threads in the server) and a
  placeholder run tag the children overwrite.
* **A run**: ``fork`` sends the spec, the run's environment and cwd and the
  three pipe ends (``SCM_RIGHTS``); the reply is the pid.  qtui waits for the
  exit on a pidfd (readable when the process exits; the server does not reap
  it until asked, so the pid cannot be recycled while it is sampled or
  signalled), then asks the server to ``reap`` it for the status and
  ``ru_maxrss``.
* **End**: ``close()`` (the session ends) closes the socket; the server kills
  whatever runs are left and exits.  If qtui dies, the server gets SIGKILL
  (PDEATHSIG) and end of file; each run's child dies with the server
  (PDEATHSIG), and its helpers with the run's janitor, as before.
* **Fallback**: where this cannot work (no pidfd: not Linux) or the server does
  not come up, runs are spawned as before, with a note saying why.
* **Early and low**: the app starts the server in the background when it opens
  (``warm(nice=...)``), its imports at a lower priority than the app (issue 24);
  ``qtui run``/``sweep`` start it before their checks.  A run that arrives
  meanwhile waits for that start (``waiting_since``: the app's status line says
  so), and a ``close`` during a start ends it at once (``abort``).

A server forked from a server is the same Python: a ``pip install`` during a
long TUI session is seen by runs only after the session's server ends.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import select
import socket
import subprocess
import threading
import time
from typing import Any

from qtui.core.config import RunSpec
from qtui.core.events import LogNote
from qtui.engine import reaper
from qtui.engine.check_end import CheckEnd
from qtui.engine.executor import Emit, LaunchError, RunEnd, RunHandle, Wake
from qtui.engine.process_executor import ProcessRun, SpawnExecutor, signal_name
from qtui.engine.pycmd import python_command

SERVER_MODULE = "qtui.engine.forkserver_main"
#: How long the server may take to import everything (a loaded shared node is slow).
READY_TIMEOUT_S = 300.0
#: How long one request (a fork, a reap) may take.
REPLY_TIMEOUT_S = 30.0
#: Set in the server's environment: the nice increment of the thread that imports
#: (``qtui.engine.forkserver_main``); the runs, forked from its main thread, keep qtui's.
NICE_ENV = "QTUI_FORKSERVER_NICE"
#: The server's own run tag: as long as every real one, overwritten in each child.
TAG_PLACEHOLDER = "forkserver." + "0" * (reaper.TAG_LEN - len("forkserver."))
MAX_PACKET = 1 << 20


def available() -> bool:
    """Whether runs can be forked here (Linux: pidfds, ``SCM_RIGHTS``, ``/proc``)."""
    return reaper.LINUX and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


class ForkServerError(Exception):
    """The server did not start, or stopped answering."""


class ForkServer:
    """One pre-imported server process; thread-safe requests, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner: threading.Thread | None = None
        self._seq = 0
        self.pid = 0
        self.start_s = 0.0  # wall time from the start request to ready
        self.ready: dict[str, Any] = {}  # the server's ready message (import_s, threads, pools)
        self._aborted = False

    # --- life -----------------------------------------------------------------------
    def start(self, timeout: float | None = None, nice: int = 0) -> None:
        """Start the server and wait until it has imported everything.

        ``nice`` > 0: its imports run at that much lower priority (a background
        start: the app's prewarm); the runs it forks do not inherit it."""
        timeout = READY_TIMEOUT_S if timeout is None else timeout
        t0 = time.monotonic()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        env["OPENBLAS_NUM_THREADS"] = "1"  # OpenBLAS starts its pool at load: not in the server
        env.pop(NICE_ENV, None)
        if nice > 0:
            env[NICE_ENV] = str(nice)
        env[reaper.RUN_TAG_ENV] = TAG_PLACEHOLDER
        env[reaper.PARENT_PID_ENV] = str(os.getpid())
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("PYTHONFAULTHANDLER", "1")
        box: dict[str, Any] = {}
        started = threading.Event()

        def owner() -> None:
            # This thread forks the server and lives as long as it: PDEATHSIG is
            # tied to the thread that forked, and a supervisor thread may end first.
            try:
                box["proc"] = subprocess.Popen(
                    python_command(SERVER_MODULE, str(theirs.fileno())),
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,  # a terminal's Ctrl-C reaches qtui only
                )
            except Exception as exc:  # noqa: BLE001 - boundary: OSError, SubprocessError, ValueError; start() raises it as ForkServerError
                box["error"] = exc
            finally:
                started.set()
            proc = box.get("proc")
            if proc is not None:
                proc.wait()

        self._owner = threading.Thread(target=owner, name="qtui-forkserver", daemon=True)
        self._owner.start()
        started.wait()
        theirs.close()
        if "error" in box:
            ours.close()
            raise ForkServerError(f"could not start the fork server: {box['error']}")
        self._proc = box["proc"]
        self._sock = ours
        self.pid = self._proc.pid
        atexit.register(self.close)
        if self._aborted:  # abort() came before the process existed
            self._proc.kill()
        try:
            ours.settimeout(timeout)
            data = ours.recv(MAX_PACKET)
        except OSError as exc:
            self.close()
            raise ForkServerError(f"the fork server did not get ready within {timeout:.0f} s") from exc
        if not data:
            code = self._proc.wait(timeout=5)
            self.close()
            raise ForkServerError(f"the fork server exited (status {code}) before it was ready")
        msg = json.loads(data)
        if not msg.get("ready"):
            self.close()
            raise ForkServerError(f"the fork server could not import: {msg.get('error', '?')}")
        self.ready = msg
        self.start_s = time.monotonic() - t0

    def abort(self) -> None:
        """End a start under way (from another thread): ``start`` raises at once instead
        of waiting out the imports."""
        self._aborted = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    @property
    def alive(self) -> bool:
        return self._sock is not None and self._proc is not None and self._proc.poll() is None

    def died(self, wait: float = 1.0) -> str | None:
        """How the server ended, when it ended on its own (``killed by SIGKILL``, ``exit
        code 1``); None while it runs or after ``close``.  Its owner thread reaps it:
        a server seen gone is waited for (at most ``wait`` s) to read its status."""
        proc = self._proc
        if proc is None or self._sock is None:
            return None
        if proc.returncode is None:
            if reaper.is_running(proc.pid, None):
                return None
            if self._owner is not None:
                self._owner.join(wait)
        code = proc.returncode
        if code is None:
            return "gone"
        return f"killed by {signal_name(-code)}" if code < 0 else f"exit code {code}"

    def close(self, timeout: float = 5.0) -> None:
        """End the server (it kills any run still going) and wait for it; safe twice."""
        atexit.unregister(self.close)
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._owner is not None:
            self._owner.join(timeout=1.0)

    # --- requests -------------------------------------------------------------------
    def _call(self, msg: dict[str, Any], fds: list[int] | None = None,
              timeout: float = REPLY_TIMEOUT_S) -> dict[str, Any]:
        with self._lock:
            sock = self._sock
            if sock is None:
                raise ForkServerError("the fork server is closed")
            self._seq += 1
            msg = {**msg, "id": self._seq}
            data = json.dumps(msg, separators=(",", ":")).encode()
            deadline = time.monotonic() + timeout
            try:
                sock.settimeout(timeout)
                if fds:
                    socket.send_fds(sock, [data], fds)
                else:
                    sock.send(data)
                while True:
                    sock.settimeout(max(0.01, deadline - time.monotonic()))
                    raw = sock.recv(MAX_PACKET)
                    if not raw:
                        raise ForkServerError("the fork server has gone")
                    reply: dict[str, Any] = json.loads(raw)
                    if reply.get("id") == self._seq:
                        break  # an earlier request's late reply is dropped
            except OSError as exc:
                raise ForkServerError(f"the fork server did not answer: {exc}") from exc
        if "error" in reply:
            raise ForkServerError(str(reply["error"]))
        return reply

    def fork(self, spec: dict[str, Any], env: dict[str, str], cwd: str,
             fds: list[int]) -> tuple[int, int]:
        """Fork a run's child; returns (its pid, the server's threads when it forked)."""
        reply = self._call({"op": "fork", "spec": spec, "env": env, "cwd": cwd}, fds)
        return int(reply["pid"]), int(reply.get("server_threads", 0))

    def fork_check(self, request: dict[str, Any], env: dict[str, str], cwd: str,
                   fds: list[int]) -> int:
        """Fork a child that checks a custom workload (``qtui.engine.forked_check``); its pid."""
        reply = self._call({"op": "fork", "entry": "workload_check", "request": request,
                            "env": env, "cwd": cwd}, fds)
        return int(reply["pid"])

    def reap(self, pid: int) -> tuple[int | None, int]:
        """(wait status, ru_maxrss in bytes) of the server's exited child ``pid``."""
        reply = self._call({"op": "reap", "pid": pid})
        status = reply.get("status")
        return (None if status is None else int(status)), int(reply.get("maxrss") or 0)

    def info(self) -> dict[str, Any]:
        """The server's thread count, pools, loaded modules and whether it read the package
        versions its runs report, now (for tests)."""
        return self._call({"op": "info"})


class ForkServerStarter:
    """The session's server: started at the first run, restarted if it died, ended on close."""

    def __init__(self) -> None:
        self.server: ForkServer | None = None
        self.broken: str | None = None
        #: One start at a time: a run that arrives while the app's prewarm starts the
        #: server waits for that server instead of starting a second one.
        self._lock = threading.RLock()
        #: The start (or fallback) note of a server started with no one to tell
        #: (a workload check before the session): told at the next ``get`` with ``emit``.
        self.untold: LogNote | None = None
        #: The server whose start is under way (``close`` ends it: ``ForkServer.abort``).
        self._starting: ForkServer | None = None
        #: Since when (``time.monotonic()``) a run has waited for a server that is not
        #: ready (its imports under way); None while none waits.  The app's status line
        #: says "starting: importing torch, pennylane…" for that long (issue 24).
        self.waiting_since: float | None = None

    def get(self, emit: Emit | None, nice: int = 0) -> ForkServer | None:
        """The running server, starting it if needed; None (after a note) if it cannot run.

        ``emit`` None: the note waits for the next caller that has a session to tell
        (a start in the background, a workload check); with ``emit`` (a run), the wait
        for a server not ready yet is ``waiting_since``.  ``nice``: a server started
        here imports at that lower priority (``ForkServer.start``)."""
        server = self.server
        waits = emit is not None and self.broken is None and not (server is not None and server.alive)
        if waits:
            self.waiting_since = time.monotonic()
        try:
            with self._lock:
                return self._get(emit, nice)
        finally:
            if waits:
                self.waiting_since = None

    def _get(self, emit: Emit | None, nice: int = 0) -> ForkServer | None:

        def tell(note: LogNote) -> None:
            if emit is None:
                self.untold = note
            else:
                emit(note)

        if emit is not None and self.untold is not None:
            note, self.untold = self.untold, None
            emit(note)
        if self.broken is not None:
            return None
        if self.server is not None and self.server.alive:
            return self.server
        again = self.server is not None
        if again:
            assert self.server is not None
            self.server.close()
        server = self._starting = ForkServer()
        try:
            server.start(nice=nice)
        except ForkServerError as exc:
            self.broken = str(exc)
            self.server = None
            tell(LogNote(message=f"fork server unavailable ({exc}); each run starts a fresh "
                                 "interpreter and pays its imports"))
            return None
        finally:
            self._starting = None
        self.server = server
        ready = server.ready
        tell(LogNote(message=(
            f"fork server {'re' if again else ''}started in {server.start_s:.2f} s "
            f"(imports {float(ready.get('import_s', 0.0)):.2f} s, paid once for this session; "
            f"runs are forked from it, so their import_s is ~0; "
            f"{int(ready.get('threads', 0))} thread(s) in the server)"
        )))
        return server

    def abort(self) -> None:
        """End a start under way now (its caller gets None), not after its imports."""
        starting = self._starting
        if starting is not None:
            starting.abort()

    def close(self) -> None:
        self.abort()
        with self._lock:
            if self.server is not None:
                self.server.close()
                self.server = None


class ForkedRun(ProcessRun):
    """A run whose child is forked by the session's server (see the module docstring)."""

    def __init__(self, spec: Any, emit: Emit, wake: Wake, server: ForkServer) -> None:
        self._server = server
        self._pidfd = -1
        self.server_threads = 0
        super().__init__(spec, emit, wake)

    def _start(self, env: dict[str, str], w_ev: int, w_out: int, w_err: int) -> int:
        try:
            pid, threads = self._server.fork(self.spec.to_dict(), env, os.getcwd(),
                                             [w_ev, w_out, w_err])
        except ForkServerError as exc:
            raise LaunchError(f"could not fork the run: {exc}") from exc
        self.server_threads = threads
        if threads > 1:
            self._emit(LogNote(message=f"run {self.spec.run_id}: the fork server had {threads} "
                                       "threads when it forked (expected 1)"))
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:
            self._pidfd = -1  # _wait_exited falls back to polling /proc
        return pid

    def _wait_exited(self) -> None:
        while not self._exited.is_set():
            if self._pidfd >= 0:
                try:
                    if select.select([self._pidfd], [], [], 0.5)[0]:
                        return
                except (OSError, ValueError):
                    return
            elif not reaper.is_running(self.pid, None):
                return
            else:
                time.sleep(0.05)

    def _reap_child(self) -> tuple[int | None, int]:
        try:
            status, rss = self._server.reap(self.pid)
        except ForkServerError:
            status, rss = None, 0
        if status is None:
            # The server is gone: its children were handed to us (the subreaper).
            deadline = time.monotonic() + 1.0
            while status is None and time.monotonic() < deadline:
                try:
                    got, st, rusage = os.wait4(self.pid, os.WNOHANG)
                except ChildProcessError:
                    time.sleep(0.01)
                    continue
                if got == self.pid:
                    status, rss = st, int(rusage.ru_maxrss) * 1024
                else:
                    time.sleep(0.01)
        return status, rss

    def finish(self) -> RunEnd:
        """The run's end; a run whose server died under it is the server's loss, not a
        crash of its own (its child died with the server: PDEATHSIG)."""
        end = super().finish()
        died = self._server.died()
        if died is None:
            return end
        return dataclasses.replace(end, cause=(
            f"lost with the fork server: the server (pid {self._server.pid}) was {died} "
            "while the run ran; not the run's own crash"
        ) if died.startswith("killed") else (
            f"lost with the fork server: the server (pid {self._server.pid}) ended "
            f"({died}) while the run ran; not the run's own crash"
        ))

    def close(self) -> None:
        super().close()  # ends and reaps the run, stops the waiter
        if self._pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = -1


class ProcessExecutor(SpawnExecutor):
    """Runs each ``RunSpec`` in a child forked from the session's pre-imported server.

    Imports are paid once per session (``ForkServerStarter``); ``close()`` ends
    the server.  Where no server can run (``available()`` is False, or it did
    not come up), runs are spawned as ``SpawnExecutor`` does, with a note.
    """

    name = "process"

    def __init__(self) -> None:
        super().__init__()
        self._servers: ForkServerStarter | None = ForkServerStarter() if available() else None

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        if self._servers is not None:
            server = self._servers.get(emit)
            if server is not None:
                return ForkedRun(spec, emit, wake, server)
        return super().launch(spec, emit, wake)

    def warm(self, emit: Emit | None = None, *, tell_first_run: bool = False, nice: int = 0) -> bool:
        """Start the server now, not at the first run: for a caller that keeps this
        executor across sessions (a test suite's shared one, ``SessionController(executor=)``,
        the app's prewarm, ``qtui run``'s early start).  True when runs will be forked;
        ``emit`` gets the start (or fallback) note, or with ``tell_first_run`` the first
        run's session does.  ``nice``: the server imports at that lower priority."""
        if self._servers is None:
            return False
        if tell_first_run:
            return self._servers.get(None, nice) is not None
        return self._servers.get(emit or (lambda event: None), nice) is not None

    def abort_start(self) -> None:
        """End the server's start if one is under way (quitting during the prewarm)."""
        if self._servers is not None:
            self._servers.abort()

    @property
    def waiting_since(self) -> float | None:
        """Since when a run has waited for the server's imports (``ForkServerStarter``)."""
        return self._servers.waiting_since if self._servers is not None else None

    def check_workload(self, request: dict[str, Any], timeout: float) -> CheckEnd | None:
        """Check a custom workload in a child forked from the server (its imports are
        paid once, for the check and the runs after it); None where no server can run
        (the caller spawns the check).  The server's start note goes to the first run."""
        from qtui.engine.forked_check import run_check

        if self._servers is None:
            return None
        server = self._servers.get(None)
        if server is None:
            return None
        return run_check(server, request, timeout)

    @property
    def server_pid(self) -> int:
        """The running server's pid, 0 when none: a leak check tells it from a run's."""
        server = self._servers.server if self._servers is not None else None
        return server.pid if server is not None and server.alive else 0

    def close(self) -> None:
        if self._servers is not None:
            self._servers.close()
