"""Check a ``--workload module:function`` before any run starts (child side).

``python -P -m qtui.engine.workload_check module:function [--device D --diff-method M]
[--workload-path DIR ...]``
imports the builder, calls it once with a real ``WorkloadContext`` (seeded as a
run would be) and checks the result against the interface.  It prints one JSON
object ``{"ok": bool, "error": str | null}`` and exits 0 (ok) or 2 (not ok), so
the CLI can refuse a bad workload with one line and exit 2 without importing
torch itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence


def check(spec: str, device: str, diff_method: str, search_path: Sequence[str] = ()) -> str | None:
    """None when the workload loads and returns a valid ``Workload``; else why not."""
    from qtui.config import WorkloadParams
    from qtui.engine.workload import WorkloadContext, WorkloadError, check_workload, load_builder

    try:
        builder = load_builder(spec, search_path)
    except WorkloadError as exc:
        return str(exc)
    import numpy as np
    import torch

    params = WorkloadParams(workload=spec)
    torch.manual_seed(params.seed)
    np.random.seed(params.seed)
    ctx = WorkloadContext(device=device, diff_method=diff_method, params=params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = builder(ctx)
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        return f"workload {spec!r} raised {type(exc).__name__}: {exc}"
    try:
        check_workload(result, spec)
    except WorkloadError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qtui.engine.workload_check")
    parser.add_argument("workload")
    parser.add_argument("--device", default="default.qubit")
    parser.add_argument("--diff-method", default="backprop")
    parser.add_argument("--workload-path", action="append", default=[])
    args = parser.parse_args(argv)
    error = check(args.workload, args.device, args.diff_method, args.workload_path)
    sys.stdout.write(json.dumps({"ok": error is None, "error": error}) + "\n")
    sys.stdout.flush()
    return 0 if error is None else 2


if __name__ == "__main__":
    from qtui.engine.reaper import die_with_parent

    die_with_parent()  # a killed qtui does not leave this child running (Linux)
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skip the second or so of torch/pennylane teardown
