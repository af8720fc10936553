"""One warm ``ProcessExecutor`` per test session (per xdist worker), shared by every test
that starts a session but is not *about* the fork server's start, fallback or death.

Why: a fork server costs 3-5 s to start (torch and pennylane imported); about 40 tests
each paid it.  Here it is paid once per worker.  The runs are still real children,
forked from the server exactly as in ``qtui run``; only the server outlives one test.

How a test uses it: ``SessionController(executor=warm_executor)``,
``QtuiApp(executor=warm_executor)``, ``Supervisor(..., executor=warm_executor)`` (or
``engine_helpers.run_session(specs, executor=warm_executor)``).  None of them closes an
executor it was given; this fixture closes it at session end, and waits for the server
to be gone.  Leak checks skip the server (``engine_helpers.SHARED_PIDS``), never its runs;
``assert_no_runs_left`` also skips one restarted meanwhile.

Tests of the server itself (``test_forkserver.py``, the fork-server faults of
``test_faults.py``) keep starting their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psutil
import pytest
from engine_helpers import SHARED_PIDS, assert_no_children, child_env

from qtui.engine.forkserver import ProcessExecutor

#: How long the shared server may take to end at session end.
CLOSE_WAIT_S = 10.0


def start_warm() -> ProcessExecutor:
    """A ``ProcessExecutor`` whose server is running, with ``tests/`` importable.

    The server's ``sys.path`` is fixed when it starts (a forked run inherits it), so it
    starts with the PYTHONPATH the tests' children get (``workloads.*``)."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = child_env()["PYTHONPATH"]
    executor = ProcessExecutor()
    try:
        if not executor.warm():
            executor.close()
            pytest.fail("the shared fork server did not start (see test_forkserver.py)")
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    return executor


def close_warm(executor: ProcessExecutor) -> None:
    """Close the executor and wait until its server process is gone (nothing left behind)."""
    pid = executor.server_pid
    executor.close()
    if not pid:
        return
    try:
        psutil.Process(pid).wait(CLOSE_WAIT_S)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired as exc:
        raise AssertionError(f"the shared fork server {pid} did not end") from exc


@pytest.fixture(scope="session")
def warm_executor() -> Iterator[ProcessExecutor]:
    """The session's warm executor (see the module docstring); closed at session end."""
    executor = start_warm()
    pid = executor.server_pid
    SHARED_PIDS.add(pid)  # other tests' leak checks skip it (not its runs)
    try:
        yield executor
    finally:
        SHARED_PIDS.discard(pid)
        close_warm(executor)


def assert_no_runs_left(executor: ProcessExecutor, timeout: float = 3.0) -> None:
    """``engine_helpers.assert_no_children``, the shared server excepted: it is the
    suite's, kept warm on purpose; any run it forked is still counted."""
    assert_no_children(timeout, spare=lambda: {executor.server_pid or 0})  # a restarted one too
