"""Check a ``--workload module:function`` before any run starts (child side).

``python -P -m qtui.engine.workload_check`` (started through
``qtui.engine.pycmd.python_command``, so the current directory is not on
``sys.path``) reads one JSON request on stdin::

    {"nonce": "...", "result_path": "...", "workload": "mod:func",
     "workload_path": [...], "builds": [{"device": ..., "diff_method": ..., "params": {...}}, ...]}

and builds the workload once per entry of ``builds``, with exactly the
parameters the runs will use (the CLI sends every distinct combination ×
parameter point that will run: building is the check), seeded as a run
would be, checking each result against the interface.  It stops at the first
build that fails.

The answer is not a line on stdout (a workload can print anything, including
a fake success, and exit 0): it is a JSON file written atomically at
``result_path`` (a fresh private folder the CLI made), carrying the request's
nonce and, per build, what only a real build can tell (the model's parameter
count, batches per epoch).  No file, a wrong nonce or a missing build means
the check failed (``read_result``).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

#: Schema of the request and the result file.
VERSION = 1


def build_once(
    spec: str, device: str, diff_method: str, params_dict: dict[str, Any],
    search_path: Sequence[str] = (),
) -> dict[str, Any]:
    """Build the workload for one combination and parameter point; the facts or the error."""
    from qtui.core.config import WorkloadParams
    from qtui.engine.workload import WorkloadContext, WorkloadError, check_workload, load_builder

    try:
        builder = load_builder(spec, search_path)
    except WorkloadError as exc:
        return {"ok": False, "error": str(exc)}
    import numpy as np
    import torch

    known = set(WorkloadParams.__dataclass_fields__)
    params = WorkloadParams(**{k: v for k, v in params_dict.items() if k in known})
    torch.manual_seed(params.seed)  # seeded as the trainer seeds a run
    np.random.seed(params.seed)
    ctx = WorkloadContext(device=device, diff_method=diff_method, params=params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = builder(ctx)
    except Exception as exc:  # noqa: BLE001 - boundary: the user's code may raise anything; the check's error says it
        return {"ok": False, "error": f"workload {spec!r} raised {type(exc).__name__}: {exc}"}
    try:
        wl = check_workload(result, spec)
    except WorkloadError as exc:
        return {"ok": False, "error": str(exc)}
    return {
        "ok": True,
        "error": None,
        "parameters": int(sum(p.numel() for p in wl.model.parameters())),
        "batches_per_epoch": wl.batches_per_epoch,
    }


def check(request: dict[str, Any]) -> dict[str, Any]:
    """Every requested build, up to the first that fails; the result document."""
    results: list[dict[str, Any]] = []
    for i, b in enumerate(request["builds"]):
        answer = build_once(
            request["workload"], b["device"], b["diff_method"], b.get("params") or {},
            request.get("workload_path") or (),
        )
        results.append({"index": i, **answer})
        if not answer["ok"]:
            break
    return {"version": VERSION, "nonce": request["nonce"], "results": results}


def write_result(path: str, doc: dict[str, Any]) -> None:
    """Atomically: a reader sees the whole result or none."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def read_result(path: str, nonce: str, n_builds: int) -> tuple[int | None, str | None]:
    """``(index, error)`` of the first failed build, ``(None, None)`` when every build passed.

    Raises ``ValueError`` when the file is missing, is not this request's
    answer, or does not cover every build (the child died or faked its way out).
    """
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ValueError("it ended without writing its result") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"its result could not be read ({exc})") from None
    if not isinstance(doc, dict) or doc.get("nonce") != nonce or doc.get("version") != VERSION:
        raise ValueError("its result is not the answer to this check")
    results = doc.get("results")
    if not isinstance(results, list):
        raise ValueError("its result holds no builds")
    for r in results:
        if isinstance(r, dict) and r.get("ok") is False:
            return int(r.get("index", 0)), str(r.get("error"))
    done = {
        r.get("index") for r in results
        if isinstance(r, dict) and r.get("ok") is True and isinstance(r.get("parameters"), int)
    }
    if done != set(range(n_builds)):
        raise ValueError(f"its result covers {len(done)} of {n_builds} builds")
    return None, None


def answer(request: dict[str, Any]) -> int:
    """Check, write the result file; the exit code (0: every build passed, 2: one failed).

    Run in a fresh interpreter (``main``) or in a child forked from the session's
    fork server (``qtui.engine.forked_check``), which has torch and pennylane loaded."""
    doc = check(request)
    write_result(request["result_path"], doc)
    return 0 if all(r["ok"] for r in doc["results"]) else 2


def main() -> int:
    return answer(json.loads(sys.stdin.read()))


if __name__ == "__main__":
    from qtui.engine.reaper import die_with_parent

    die_with_parent()  # a killed qtui does not leave this child running (Linux)
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skip the second or so of torch/pennylane teardown
