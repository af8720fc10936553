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

from qtui.core.config import RunSpec, WorkloadParams
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


def check_workload(specs: list[RunSpec]) -> str | None:
    """Build a custom workload in a child for every distinct run; None if all built, else why not.

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
        try:
            proc = subprocess.run(
                python_command("qtui.engine.workload_check"),
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=WORKLOAD_CHECK_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return f"building {workload!r} took longer than {WORKLOAD_CHECK_TIMEOUT_S:g} s"
        try:
            index, problem = read_result(result_path, nonce, len(builds))
        except ValueError as exc:
            tail = (proc.stderr or "").strip().splitlines()[-1:]
            why = f"; last stderr line: {tail[0]}" if tail else ""
            return f"checking {workload!r} failed: {exc} (exit code {proc.returncode}{why})"
    if index is None:
        return None
    return f"{problem} (building {_point(builds[index])})"
