"""A custom ``--workload`` is built once in a short child before any run starts.

So a typo in ``mod:func`` or a workload that raises while building costs one
line and exit 2, not a session of failed runs.  The check runs under ``--timeout``
(for each point it builds, as each run would have had it for its own build) or,
without one, a limit of its own; a stop signal during it (Ctrl-C, SIGTERM,
SIGHUP) kills the check's child and exits 130 / 143 / 129 with one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.check_end import CheckEnd
from qtui.engine.pycmd import python_command

#: The check's own limit, when no ``--timeout`` is given.
WORKLOAD_CHECK_TIMEOUT_S = 300.0

#: A stop signal during the check: the exit code and the word of its one line
#: (the codes a session exits with, ``qtui.cli.console_session``).
_STOPS = {
    signal.SIGINT: (130, "interrupted"),
    signal.SIGTERM: (143, "terminated"),
    signal.SIGHUP: (129, "hung up"),
}


class CheckStopped(BaseException):
    """A stop signal arrived while the check ran (raised in the main thread by its handler)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """While the check runs, SIGINT/SIGTERM/SIGHUP raise ``CheckStopped`` (main thread only),
    so the waits unwind and their ``finally`` kills the check's child."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise CheckStopped(signum)

    saved = {s: signal.getsignal(s) for s in _STOPS}
    for s in _STOPS:
        signal.signal(s, stop)
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def check_limit(specs: list[RunSpec], builds: int) -> tuple[float, str]:
    """The check's time limit and where it comes from: ``--timeout`` for each point built,
    else ``WORKLOAD_CHECK_TIMEOUT_S``."""
    timeouts = [s.timeout_s for s in specs if s.timeout_s]
    if timeouts:
        per = max(timeouts)
        return per * builds, f"--timeout, for each of the {builds} point{'s' if builds != 1 else ''} built"
    return WORKLOAD_CHECK_TIMEOUT_S, "the check's own limit; --timeout sets it"


def workload_builds(specs: list[RunSpec]) -> list[RunSpec]:
    """One spec per distinct (device, method, parameters) that will run: building each is the check.

    Repeats build the same thing; ``threads`` only sets the child's
    environment before import, so it is not a different build.
    """
    seen: dict[tuple[str, str, WorkloadParams], RunSpec] = {}
    for s in specs:
        seen.setdefault((s.device, s.diff_method, replace(s.params, threads=0)), s)
    return list(seen.values())


def _point(spec: RunSpec) -> str:
    """``default.qubit+adjoint, qubits=4`` (parameters that differ from the forum's)."""
    defaults = WorkloadParams().to_dict()
    diff = [
        f"{k}={v}" for k, v in spec.params.to_dict().items()
        if k not in ("workload", "threads") and v != defaults[k]
    ]
    return ", ".join([spec.combo, *diff])


def check_workload(specs: list[RunSpec], executor: Any = None) -> str | None:
    """Build a custom workload in a child for every distinct run; None if all built, else why not.

    A stop signal during the check ends qtui here: the child is killed, one line
    ``qtui: terminated during the workload check`` and ``SystemExit`` with the
    session's code for it (130 / 143 / 129).

    With ``executor`` (the session's ``ProcessExecutor``), the child is forked from
    its fork server, which the runs then use warm (``qtui.engine.forked_check``);
    otherwise, or where no server can run, it is a fresh interpreter.
    The child's answer is a result file with this check's nonce
    (``qtui.engine.workload_check``), never its stdout, so a workload that
    prints a success and exits 0 does not pass.
    """
    from qtui.engine.workload_check import read_result

    builds = workload_builds(specs)
    if not builds:
        return None
    workload = builds[0].params.workload
    with tempfile.TemporaryDirectory(prefix="qtui-check-") as folder:
        result_path = os.path.join(folder, "result.json")
        nonce = secrets.token_hex(16)
        request = {
            "nonce": nonce,
            "result_path": result_path,
            "workload": workload,
            "workload_path": list(builds[0].workload_path),
            "builds": [
                {"device": b.device, "diff_method": b.diff_method, "params": b.params.to_dict()}
                for b in builds
            ],
        }
        limit, source = check_limit(specs, len(builds))
        from qtui.engine import oom

        before = oom.counters()
        try:
            with _stop_signals():
                end = _forked(executor, request, limit) or _spawned(request, limit)
        except (CheckStopped, KeyboardInterrupt) as exc:
            signum = exc.signum if isinstance(exc, CheckStopped) else signal.SIGINT
            code, word = _STOPS[signal.Signals(signum)]
            print(f"qtui: {word} during the workload check", file=sys.stderr)
            raise SystemExit(code) from None
        if end.returncode is None:
            return f"building {workload!r} took longer than {limit:g} s ({source})"
        try:
            index, problem = read_result(result_path, nonce, len(builds))
        except ValueError as exc:
            killed = "SIGKILL" if end.returncode == -9 else None
            memory = oom.oom_cause(before, oom.counters(), killed, None)
            if memory:  # the kernel's OOM killer, not the workload's own error
                return f"checking {workload!r} failed: {memory} (SIGKILL)"
            tail = end.last_stderr_line
            why = f"; last stderr line: {tail}" if tail else ""
            return f"checking {workload!r} failed: {exc} (exit code {end.returncode}{why})"
    if index is None:
        return None
    return f"{problem} (building {_point(builds[index])})"


def _forked(executor: Any, request: dict[str, Any], limit: float) -> CheckEnd | None:
    """The check forked from ``executor``'s server; None when it has none."""
    check = getattr(executor, "check_workload", None)
    if check is None:
        return None
    end: CheckEnd | None = check(request, limit)
    return end


def _spawned(request: dict[str, Any], limit: float) -> CheckEnd:
    """The check in a fresh interpreter (``python -P -m qtui.engine.workload_check``);
    ``subprocess.run`` kills it on the limit or on any exception (a stop signal's)."""
    try:
        proc = subprocess.run(
            python_command("qtui.engine.workload_check"),
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return CheckEnd(None, "")
    return CheckEnd(proc.returncode, proc.stderr or "")
