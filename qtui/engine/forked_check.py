"""A custom workload's check, in a child forked from the session's fork server.

Spawned, the check paid its own interpreter and torch/pennylane imports (3-5 s)
and the session's fork server paid them again for the first run.  Forked from
that server, the check starts at once and the server is warm for the runs.
The child is set up exactly as a run's (its own session, the run's environment
and folder, ``PR_SET_PDEATHSIG``; ``qtui.engine.forkserver_main``) and answers
through the same nonce'd result file as the spawned check
(``qtui.engine.workload_check``).

Its stderr goes to a file, not a pipe: a workload that prints a lot while
building cannot fill a pipe nobody reads and hang.  A check past ``timeout``,
or one whose caller is interrupted (Ctrl-C), is killed with its process group.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import tempfile
import time
from typing import Any, Protocol

from qtui.engine.check_end import CheckEnd


class ForksChecks(Protocol):
    """What this needs of ``qtui.engine.forkserver.ForkServer`` (which imports this)."""

    def fork_check(self, request: dict[str, Any], env: dict[str, str], cwd: str,
                   fds: list[int]) -> int: ...

    def reap(self, pid: int) -> tuple[int | None, int]: ...

#: The most of the child's stderr kept for the error line.
STDERR_KEEP = 64 * 1024


def _wait_exit(pid: int, deadline: float) -> bool:
    """Wait until ``pid`` (the server's child, not ours) has exited; False at the deadline."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                return True
    finally:
        os.close(fd)


def _kill(pid: int) -> None:
    """SIGKILL the check and anything its workload started in its session."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def run_check(server: ForksChecks, request: dict[str, Any], timeout: float) -> CheckEnd:
    """Fork the check, wait for it (at most ``timeout`` s), reap it; how it ended."""
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as null:
        # events: nothing (closed in the child); stdout: discarded; stderr: kept
        fds = [os.dup(null.fileno()), os.dup(null.fileno()), os.dup(err.fileno())]
        try:
            pid = server.fork_check(request, dict(os.environ), os.getcwd(), fds)
        finally:
            for fd in fds:
                os.close(fd)
        ended = False
        try:
            ended = _wait_exit(pid, time.monotonic() + timeout)
        finally:
            if not ended:
                _kill(pid)
                _wait_exit(pid, time.monotonic() + 5.0)
            status, _ = server.reap(pid)
        err.seek(0)
        text = err.read()[-STDERR_KEEP:].decode("utf-8", "replace")
    if not ended:
        return CheckEnd(None, text)
    code = os.waitstatus_to_exitcode(status) if status is not None else -1
    return CheckEnd(code, text)
