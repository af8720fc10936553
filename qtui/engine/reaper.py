"""Nothing a run starts outlives the run, nor a qtui that was killed (issue 11, items 1, 2).

A workload may start helpers of its own, and a helper may leave the run's
process group and session (``start_new_session=True``, a daemon's double
fork).  Signalling the child's process group misses those, and a helper that
still holds the child's stdout/stderr keeps the pipes open after the child is
gone.  So, on Linux:

* **Subreaper.**  The process that supervises runs makes itself a child
  subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so an orphaned descendant of a
  run is reparented to qtui rather than to init, and stays reachable.  This is
  a property of the whole qtui process; qtui owns every child it starts, so
  that is what we want.  Orphans of other children (the probe, say) would also
  come to qtui: they are reaped only when they are run processes (below),
  otherwise they stay as zombies until qtui exits, which costs a pid entry.
* **Who belongs to a run.**  Every process whose environment carries the run's
  tag (``QTUI_RUN_TAG``, inherited by everything the child starts unless a
  workload scrubs its environment), every descendant of the child, and every
  process seen as a descendant while the run was going (a tracker samples the
  tree once a second, and once more just before a cancel or a kill; a process is known by pid *and* start time, so a recycled pid is never
  mistaken for it).  ``end_run`` SIGKILLs them all, round after round until
  none is left (one may fork while we look), through a pidfd where there is
  one, and reaps those that became qtui's children.
* **qtui killed.**  The child asks for ``PR_SET_PDEATHSIG(SIGKILL)`` at the very
  top of ``qtui.engine.child`` (and leaves when its parent is already gone),
  so it dies with qtui even while stuck in C code that holds the GIL.  Its own
  helpers get no such signal, so each run also has a *janitor*: a tiny
  ``python -I -S`` process in a session of its own that blocks reading a pipe
  only qtui holds.  When qtui dies the pipe closes, and the janitor kills every
  process that carries the run's tag, then exits.  At the end of a normal run
  qtui closes the pipe itself (the janitor then finds nothing) and reaps it.

Elsewhere (macOS) none of the Linux calls exist: the process group is
signalled, ``psutil`` finds the descendants, and the child's Python watchdog
(``qtui.engine.child``) is the fallback for a killed qtui.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

#: Environment variable naming the run a process belongs to (inherited by its helpers).
RUN_TAG_ENV = "QTUI_RUN_TAG"
#: The pid of the qtui process that started the child (checked right after PDEATHSIG).
PARENT_PID_ENV = "QTUI_PARENT_PID"
#: Every run tag has this length, so a fork server can write one over a placeholder
#: in its own environment block (``qtui.engine.forkserver_main``).
TAG_LEN = 43

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

LINUX = sys.platform.startswith("linux")

#: A process: its pid and its start (``start_token``), so a recycled pid is another key.
ProcKey = tuple[int, str]

_subreaper = False


def _prctl(option: int, arg: int) -> bool:
    if not LINUX:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux; once)."""
    global _subreaper
    if not _subreaper:
        _subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    return _subreaper


_dies_with_parent = False


def die_with_parent() -> None:
    """Child side: be SIGKILLed when qtui dies; leave now if it already has.

    The kernel sends the signal when the *thread* that forked us ends.  The
    process executor starts the child from the supervisor's ``run()`` thread,
    which outlives every run it starts (``close()`` ends the run before
    ``run()`` returns), so that thread's end means qtui is done with us.
    """
    global _dies_with_parent
    if not _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL)):
        return
    _dies_with_parent = True
    expected = os.environ.get(PARENT_PID_ENV, "")
    # The parent may have died between fork and prctl: then no signal will come.
    if expected.isdigit() and os.getppid() != int(expected):
        os._exit(3)


def dies_with_parent() -> bool:
    """Did ``die_with_parent`` arm the kernel's signal (Linux)?  Else a watchdog must look."""
    return _dies_with_parent


def new_tag() -> str:
    """A run's tag: qtui's pid and a random part, always ``TAG_LEN`` characters."""
    import uuid

    tag = f"{os.getpid():010d}.{uuid.uuid4().hex}"
    assert len(tag) == TAG_LEN
    return tag


# --- process table -------------------------------------------------------------

_boot_id: str | None = None


def _boot() -> str:
    global _boot_id
    if _boot_id is None:
        try:
            with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
                _boot_id = f.read().strip()
        except OSError:
            _boot_id = ""
    return _boot_id


def _linux_stat(pid: int) -> tuple[int, str, str] | None:
    """(ppid, start ticks, state) from ``/proc/<pid>/stat``; None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    post = raw[raw.rfind(b")") + 2 :].split()
    try:
        return int(post[1]), post[19].decode(), post[0].decode()
    except (IndexError, ValueError):
        return None


def start_token(pid: int) -> str | None:
    """What tells this process apart from a later one with the same pid; None if gone.

    Linux: the boot id and the start time in clock ticks since boot (both
    fixed for the life of the process).  Elsewhere psutil's creation time.
    """
    if LINUX:
        st = _linux_stat(pid)
        return None if st is None else f"{_boot()}:{st[1]}"
    import psutil

    try:
        return repr(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def is_running(pid: int, token: str | None) -> bool:
    """Whether ``pid`` is still the process that had ``token`` (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if LINUX:
        st = _linux_stat(pid)
        if st is None or st[2] in ("Z", "X"):
            return False
        return token is None or f"{_boot()}:{st[1]}" == token
    import psutil

    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        return token is None or repr(p.create_time()) == token
    except psutil.Error:
        return False


def _table() -> dict[int, tuple[int, str, str]]:
    """pid -> (ppid, start token, state) of every process we can see."""
    out: dict[int, tuple[int, str, str]] = {}
    if LINUX:
        boot = _boot()
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = _linux_stat(int(name))
                if st is not None:
                    out[int(name)] = (st[0], f"{boot}:{st[1]}", st[2])
        return out
    import psutil

    for p in psutil.process_iter(["ppid", "create_time", "status"]):
        info = p.info
        state = "Z" if info["status"] == psutil.STATUS_ZOMBIE else "R"
        out[p.pid] = (int(info["ppid"] or 0), repr(info["create_time"]), state)
    return out


def _has_tag(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return needle in b"\0" + f.read()
    except OSError:
        return False


def _tag_needle(tag: str) -> bytes:
    return f"\0{RUN_TAG_ENV}={tag}\0".encode()


def run_members(tag: str | None, known: Iterable[ProcKey]) -> dict[int, tuple[int, str, str]]:
    """The run's processes now (zombies included): tagged, known, and their descendants."""
    table = _table()
    me = os.getpid()
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    seeds = [pid for pid, token in known if pid in table and table[pid][1] == token]
    if tag and LINUX:
        needle = _tag_needle(tag)
        seeds += [pid for pid, row in table.items() if row[2] != "Z" and _has_tag(pid, needle)]
    found: set[int] = set()
    while seeds:
        pid = seeds.pop()
        if pid in found or pid == me:
            continue
        found.add(pid)
        seeds.extend(kids.get(pid, ()))
    return {pid: table[pid] for pid in found}


def _kill(pid: int, token: str) -> None:
    """SIGKILL ``pid`` if it is still the process with ``token`` (race-free with a pidfd)."""
    pidfd = -1
    with contextlib.suppress(OSError, AttributeError):
        pidfd = os.pidfd_open(pid)
    try:
        if not is_running(pid, token):
            return
        with contextlib.suppress(OSError):
            if pidfd >= 0:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def end_run(
    tag: str | None,
    known: Iterable[ProcKey],
    *,
    keep_zombie: int = 0,
    timeout: float = 2.0,
) -> set[ProcKey]:
    """SIGKILL every process of the run until none is left; reap the ones that are ours.

    ``keep_zombie`` is the run's own child, which its executor reaps itself
    (for ``wait4``'s rusage).  Returns the processes signalled.  Bounded by
    ``timeout``: a process stuck in the kernel (state D) may outlast it.
    """
    known = set(known)
    me = os.getpid()
    signalled: set[ProcKey] = set()
    deadline = time.monotonic() + timeout
    while True:
        members = run_members(tag, known | signalled)
        live = False
        for pid, (ppid, token, state) in members.items():
            if state not in ("Z", "X"):
                live = True
                _kill(pid, token)
                signalled.add((pid, token))
            elif ppid == me and pid != keep_zombie:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
        if not live or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    # Those that died after the last look and were reparented to us: reap them.
    for pid, _ in signalled:
        if pid != keep_zombie:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
    return signalled


def descendants(pid: int) -> list[int]:
    """Live descendants of ``pid`` (cheap on Linux: ``/proc/<pid>/task/*/children``)."""
    from qtui.engine.sampler import descendants as tree

    return tree(pid)


# --- the janitor -------------------------------------------------------------------

#: Blocks on stdin until qtui closes it or dies, then kills every process with the tag.
_JANITOR = r"""
import os, signal, sys, time
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
needle = b"\0" + sys.argv[1].encode() + b"\0"
try:
    while os.read(0, 4096):
        pass
except OSError:
    pass
me = os.getpid()
for _ in range(200):
    hit = 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/" + name + "/environ", "rb") as f:
                env = b"\0" + f.read()
        except OSError:
            continue
        if needle in env:
            try:
                os.kill(int(name), signal.SIGKILL)
                hit += 1
            except OSError:
                pass
    if not hit:
        break
    time.sleep(0.01)
"""


class Janitor:
    """The per-run process that cleans up after a qtui that died (Linux only; see above)."""

    def __init__(self, tag: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self._w = -1
        if not LINUX:
            return
        r, w = os.pipe()  # both ends close-on-exec: the run's child never holds them
        env = {k: v for k, v in os.environ.items() if k != RUN_TAG_ENV}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _JANITOR, f"{RUN_TAG_ENV}={tag}"],
                stdin=r,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a terminal's Ctrl-C or hang-up does not reach it
            )
        except OSError:
            os.close(w)
            self.proc = None
        else:
            self._w = w
        finally:
            os.close(r)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def close(self, timeout: float = 2.0) -> None:
        """Let it sweep (it finds nothing once the run was ended) and reap it."""
        if self._w >= 0:
            os.close(self._w)
            self._w = -1
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
