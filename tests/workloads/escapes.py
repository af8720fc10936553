"""Workloads whose processes try to outlive their run (issue 11, items 1 and 2).

Each writes the pids it wants the test to watch to ``$QTUI_TEST_PIDS`` (one
JSON object, written atomically) once they are in place, then hangs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext

#: A helper that sleeps for ten minutes: it must not live that long.
_SLEEPER = "import time; time.sleep(600)"


def _report(**pids: int) -> None:
    path = os.environ.get("QTUI_TEST_PIDS")
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(pids, f)
    os.replace(tmp, path)


def _helper(scrub_env: bool) -> subprocess.Popen[bytes]:
    """A helper in a session of its own that inherits the child's stdout and stderr."""
    env = {"PATH": os.environ.get("PATH", "")} if scrub_env else None  # no run tag either
    return subprocess.Popen(
        [sys.executable, "-c", _SLEEPER], start_new_session=True, env=env, close_fds=True
    )


def _at_first_batch(wl: Workload, action: Any) -> Workload:
    data = wl.train_data

    class Wrapped:
        def __iter__(self) -> Iterator[Any]:
            for batch in data:
                action()
                yield batch

    wl.train_data = Wrapped()
    return wl


def setsid_helper_hangs(ctx: WorkloadContext) -> Workload:
    """Starts a helper with ``start_new_session=True`` (stdout/stderr inherited, the
    environment scrubbed), then never finishes its first batch."""

    def act() -> None:
        helper = _helper(scrub_env=True)
        _report(child=os.getpid(), helper=helper.pid)
        while True:
            time.sleep(3600)

    return _at_first_batch(forum_build(ctx), act)


def gil_hog(ctx: WorkloadContext) -> Workload:
    """Starts a helper in its own session, then spins in ``re`` holding the GIL.

    ``re``'s matcher (``_sre``) never releases the GIL and never checks for
    signals, so neither the child's Python watchdog thread nor a Python signal
    handler runs while it backtracks: ``(a+)+$`` against 40 ``a`` and a ``b``
    takes 2**40 steps (hours).
    """

    def act() -> None:
        helper = _helper(scrub_env=False)
        _report(child=os.getpid(), helper=helper.pid)
        re.match(r"(a+)+$", "a" * 40 + "b")

    return _at_first_batch(forum_build(ctx), act)
