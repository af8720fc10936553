"""A custom ``--workload`` is built once in a short child before any run starts.

So a typo in ``mod:func`` or a workload that raises while building costs one
line and exit 2, not a session of failed runs.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tempfile
from dataclasses import replace
from typing import Any

from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.check_end import CheckEnd
from qtui.engine.pycmd import python_command

WORKLOAD_CHECK_TIMEOUT_S = 300.0


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
        end = _forked(executor, request) or _spawned(request)
        if end.returncode is None:
            return f"building {workload!r} took longer than {WORKLOAD_CHECK_TIMEOUT_S:g} s"
        try:
            index, problem = read_result(result_path, nonce, len(builds))
        except ValueError as exc:
            tail = end.last_stderr_line
            why = f"; last stderr line: {tail}" if tail else ""
            return f"checking {workload!r} failed: {exc} (exit code {end.returncode}{why})"
    if index is None:
        return None
    return f"{problem} (building {_point(builds[index])})"


def _forked(executor: Any, request: dict[str, Any]) -> CheckEnd | None:
    """The check forked from ``executor``'s server; None when it has none."""
    check = getattr(executor, "check_workload", None)
    if check is None:
        return None
    end: CheckEnd | None = check(request, WORKLOAD_CHECK_TIMEOUT_S)
    return end


def _spawned(request: dict[str, Any]) -> CheckEnd:
    """The check in a fresh interpreter (``python -P -m qtui.engine.workload_check``)."""
    try:
        proc = subprocess.run(
            python_command("qtui.engine.workload_check"),
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=WORKLOAD_CHECK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return CheckEnd(None, "")
    return CheckEnd(proc.returncode, proc.stderr or "")
