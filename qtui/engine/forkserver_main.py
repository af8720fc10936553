"""The fork server process *(child side)*: torch and pennylane imported once, a fork per run.

Started by ``qtui.engine.forkserver.ForkServer`` as ``python -P -m
qtui.engine.forkserver_main FD`` (the cwd off ``sys.path``, ``qtui.engine.pycmd``)
in a session of its own, with ``FD`` one end of a ``SOCK_SEQPACKET`` socket pair.
It imports ``PRELOAD`` (torch, ``torch._dynamo`` which the first optimiser
would import, pennylane, sklearn's datasets, threadpoolctl, qtui's child side
and the built-in forum workload; lightning.qubit's module where installed),
fills the caches every forum run's start would fill (``_warm``), says
``ready``, and then serves one request
at a time, each a JSON packet:

* ``fork`` (with three descriptors: events, stdout, stderr): fork; the new
  process becomes the run's child exactly as a spawned one would be (below)
  and the reply is its pid.  With ``"entry": "workload_check"`` the child
  checks a custom workload instead (``qtui.engine.workload_check.answer``;
  ``qtui.engine.forked_check``): the imports a check needs are the server's;
* ``reap``: ``wait4`` the run's child once qtui has seen it exit, for its
  status and ``ru_maxrss`` (it is our child, not qtui's);
* end of file (qtui closed the socket or died): SIGKILL every run still
  going, reap them, exit.

Fork safety: the server stays single-threaded and starts no thread pool.
OpenBLAS starts its pool when it is loaded, so the server runs with
``OPENBLAS_NUM_THREADS=1`` (set by qtui); libgomp and torch create threads
only at their first parallel region, which never runs here (no tensor
arithmetic, no ``threadpool_limits``), and CUDA is never initialised (a
process that forks after CUDA's initialisation hands its children a broken
CUDA).  ``ready`` and every ``fork`` reply carry
the server's thread count, and ``ready`` its pools (threadpoolctl), so this is
checked, not assumed (``tests/test_forkserver.py``).

The forked child: its own session and process group (``setsid``), signal
handlers as a fresh interpreter has them, stdin from ``/dev/null``, stdout and
stderr on the run's pipes, the run's cwd and environment (qtui's, with the
run's tag, event fd and this server as the parent to die with), the run's tag
written over the placeholder in its environment block so ``/proc/<pid>/environ``
shows it (``qtui.engine.reaper`` finds a run's processes by it),
``PR_SET_PDEATHSIG`` (it dies with the server, which dies with qtui), Python's
``random`` reseeded, then ``qtui.engine.child.run_forked``.  A user's workload
module (``--workload``) is imported there, in the child, never in the server:
its import may start threads or do anything else.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import signal
import socket
import sys
import time
import traceback
from typing import Any

#: Imported once by the server; a run's child finds them loaded.
PRELOAD: tuple[str, ...] = (
    "numpy",
    "torch",
    "torch._dynamo",  # torch.optim imports it on the first optimiser: ~2.5 s
    "torch.optim",
    "pennylane",
    "sklearn.datasets",
    "threadpoolctl",
    "psutil",
    "qtui.core.events",
    "qtui.engine.child",
    "qtui.engine.trainer",
    "qtui.engine.phases",
    "qtui.engine.warnings_capture",
    "qtui.engine.workload",
    "qtui.engine.forum",
)

#: Imported too when installed (a missing one is no error): lightning.qubit's module is
#: ~40 ms of a run's start at its first lightning device otherwise.
PRELOAD_OPTIONAL: tuple[str, ...] = ("pennylane_lightning.lightning_qubit",)

#: The largest request (a run's spec and environment); more is refused.
MAX_PACKET = 1 << 20


def thread_count() -> int:
    """Threads of this process (``/proc/self/task``); 0 where that cannot be read."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def pools() -> list[dict[str, Any]]:
    """The loaded OpenMP/BLAS pools and their sizes (reads them; starts nothing)."""
    from threadpoolctl import threadpool_info

    return [
        {k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "filepath")}
        for info in threadpool_info()
    ]


def cuda_initialized() -> bool:
    """Whether CUDA was initialised here (it must not be: a fork after it breaks CUDA)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def _versions_read() -> bool:
    """Whether the package versions a run reports were read here already (each run's
    ``run_started`` finds them in its copy of the server)."""
    from qtui.engine.trainer import _read_versions

    return _read_versions.cache_info().currsize > 0


def _nice_from_env() -> int:
    """The import's nice increment qtui asked for (``QTUI_FORKSERVER_NICE``; 0: none)."""
    from qtui.engine.forkserver import NICE_ENV

    value = os.environ.pop(NICE_ENV, "")
    return int(value) if value.isdigit() else 0


def _import_all() -> tuple[str, str] | None:
    """Import ``PRELOAD`` (and ``PRELOAD_OPTIONAL`` where installed), then ``_warm``;
    (error, traceback) when one fails."""
    try:
        for name in PRELOAD:
            importlib.import_module(name)
        for name in PRELOAD_OPTIONAL:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        _warm()
    except BaseException as exc:  # noqa: BLE001 - boundary: qtui notes it and falls back to spawn
        return f"{type(exc).__name__}: {exc}", traceback.format_exc()[-4000:]
    return None


_WARMED: list[bool] = []


def _warm() -> None:
    """What every forum run's start would do first, done once here: the package versions
    its ``run_started`` reports (~9 ms of metadata look-ups) and sklearn's look-up of its
    dataframe plugins at the first ``make_moons`` (~10 ms of entry points).  numpy only:
    no torch operation runs here (its first parallel region would start a pool)."""
    from sklearn.datasets import make_moons

    from qtui.engine.trainer import package_versions

    package_versions()
    make_moons(n_samples=4, noise=0.1, random_state=0)  # its own RNG: numpy's global one untouched
    _WARMED.append(True)


def _preload(nice: int) -> tuple[str, str] | None:
    """Import ``PRELOAD``, with ``nice`` > 0 at that lower priority (a background start).

    Linux keeps a nice value per thread and a forked process inherits its forking
    thread's, and an unprivileged process cannot lower one again.  So a niced import
    runs in a thread of its own, niced alone, and the runs are forked from the main
    thread, which keeps qtui's priority.  The server is single-threaded again before
    it says ready (the thread has ended; its exit is waited for in ``/proc``)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return _import_all()
    import threading

    box: list[tuple[str, str] | None] = [None]

    def low() -> None:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + nice)  # this thread
        box[0] = _import_all()

    worker = threading.Thread(target=low, name="qtui-import")
    worker.start()
    worker.join()
    deadline = time.monotonic() + 2.0
    while thread_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.001)  # joined, not yet gone from /proc/self/task
    return box[0]


def _send(sock: socket.socket, msg: dict[str, Any]) -> None:
    sock.send(json.dumps(msg, separators=(",", ":")).encode())


#: qtui's process that started this server (its runs' CPU figure leaves it out).
_QTUI_PID = 0


def main() -> None:
    from qtui.engine.reaper import die_with_parent

    global _QTUI_PID
    _QTUI_PID = os.getppid()
    die_with_parent()  # the server dies with qtui (PDEATHSIG, Linux)
    sock = socket.socket(fileno=int(sys.argv[1]))
    t0 = time.perf_counter()
    failed = _preload(_nice_from_env())
    if failed is not None:  # sent to qtui, which notes it and falls back to spawn
        _send(sock, {"ready": False, "error": failed[0], "traceback": failed[1]})
        os._exit(1)
    import_s = time.perf_counter() - t0
    from qtui.engine.heap import freeze_imports

    freeze_imports()  # children neither walk nor copy the imports' objects (qtui.engine.heap)
    _send(sock, {"ready": True, "pid": os.getpid(), "import_s": import_s,
                 "threads": thread_count(), "pools": pools(), "cuda": cuda_initialized()})
    children: set[int] = set()
    try:
        _serve(sock, children)
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        os._exit(0)


def _serve(sock: socket.socket, children: set[int]) -> None:
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, MAX_PACKET, 8)
        except OSError:
            return
        if not data:
            for fd in fds:
                os.close(fd)
            return  # qtui closed its end, or died
        try:
            req = json.loads(data)
        except ValueError:
            req = {}
        op = req.get("op")
        if op == "fork":
            if len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                _send(sock, {"id": req.get("id"), "error": "fork needs 3 descriptors"})
                continue
            threads = thread_count()
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                pid = os.fork()
            except OSError as exc:  # EAGAIN, ENOMEM: this run cannot start, the server goes on
                for fd in fds:
                    os.close(fd)
                _send(sock, {"id": req.get("id"), "error": f"fork failed: {exc}"})
                continue
            if pid == 0:
                _child(sock, req, fds)  # never returns
            for fd in fds:
                os.close(fd)
            children.add(pid)
            _send(sock, {"id": req.get("id"), "pid": pid, "server_threads": threads})
        elif op == "reap":
            pid = int(req.get("pid", 0))
            status, maxrss = _reap(pid) if pid in children else (None, 0)
            if status is not None:
                children.discard(pid)
            _send(sock, {"id": req.get("id"), "status": status, "maxrss": maxrss})
        elif op == "info":
            _send(sock, {"id": req.get("id"), "threads": thread_count(), "pools": pools(),
                         "cuda": cuda_initialized(), "modules": sorted(sys.modules),
                         "versions_read": _versions_read(), "warmed": bool(_WARMED)})
        else:
            for fd in fds:
                os.close(fd)
            _send(sock, {"id": req.get("id"), "error": f"unknown op {op!r}"})


def _reap(pid: int, wait_s: float = 5.0) -> tuple[int | None, int]:
    """(status, ru_maxrss in bytes) of an exited child; (None, 0) if it has not exited."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            got, status, rusage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return None, 0
        if got == pid:
            kib = int(rusage.ru_maxrss)
            return status, kib if sys.platform == "darwin" else kib * 1024
        if time.monotonic() > deadline:
            return None, 0
        time.sleep(0.005)


# --- in the forked child ---------------------------------------------------------


def _child(sock: socket.socket, req: dict[str, Any], fds: list[int]) -> None:
    """Become the run's child (see the module docstring); never returns."""
    code = 70
    try:
        server = os.getppid()
        sock.close()
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                    signal.SIGUSR2, signal.SIGALRM, signal.SIGCHLD):
            # As exec would: handlers go back to the default, an ignored signal stays
            # ignored (a SLURM job's SIGUSR2 warning, see qtui.cluster.job_side).
            if sig == signal.SIGCHLD or signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ev_fd, out_fd, err_fd = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        os.close(err_fd)
        os.set_inheritable(ev_fd, False)  # the workload's own subprocesses never get it
        from qtui.engine.child import EVENT_FD_ENV, run_forked
        from qtui.engine.cpu_budget import OWN_PIDS_ENV
        from qtui.engine.reaper import PARENT_PID_ENV, RUN_TAG_ENV, die_with_parent

        env: dict[str, str] = dict(req["env"])
        env[EVENT_FD_ENV] = str(ev_fd)
        env[PARENT_PID_ENV] = str(server)
        env[OWN_PIDS_ENV] = f"{server},{_QTUI_PID}"  # not "others" at the run's start
        os.environ.clear()
        os.environ.update(env)
        die_with_parent()
        stamp_environ(RUN_TAG_ENV, env.get(RUN_TAG_ENV, ""))
        os.chdir(req["cwd"])
        import random

        random.seed()
        sys.argv = [sys.argv[0]]
        if req.get("entry") == "workload_check":  # qtui.engine.forked_check
            os.close(ev_fd)
            from qtui.engine.workload_check import answer

            code = answer(req["request"])
        else:
            from qtui.core.config import RunSpec

            code = run_forked(RunSpec.from_dict(req["spec"]), ev_fd)
    except BaseException:  # noqa: BLE001 - boundary: the traceback goes to the run's stderr, which its crash report carries
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)  # whatever happened above: a forked child never returns into the server


def stamp_environ(name: str, value: str) -> bool:
    """Write ``value`` over ``name``'s placeholder in this process's environment block.

    ``/proc/<pid>/environ`` shows the block the process was started with, not
    ``os.environ``; a forked child inherits the server's.  The server starts
    with a placeholder of the same length as every run tag, which each child
    overwrites in place (Linux: the block's bounds are in ``/proc/self/stat``).
    False when there is no placeholder of that length.
    """
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
    except (OSError, IndexError, ValueError):
        return False
    block = ctypes.string_at(start, end - start)
    key = b"\0" + name.encode() + b"="
    at = block.find(key)
    if at < 0 and block.startswith(key[1:]):
        at = -1
    elif at < 0:
        return False
    first = at + len(key)
    stop = block.find(b"\0", first)
    new = value.encode()
    if stop - first != len(new):
        return False
    ctypes.memmove(start + first, new, len(new))
    return True


if __name__ == "__main__":
    main()
