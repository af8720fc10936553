"""Capability probe (child side): which devices and diff methods actually work here.

``python -m qtui.engine.probe [--out FILE]`` discovers the installed PennyLane
devices (entry-point group ``pennylane.plugins``), and for every device ×
method in ``qtui.core.config.DIFF_METHODS`` builds the forum circuit as a
``TorchLayer`` through the same ``WorkloadContext.torch_layer`` the runs use,
on a batch of two inputs, and does a forward and a backward pass.  So the
answer is PennyLane's own (its ``QuantumFunctionError`` message for
lightning.qubit + backprop, say), what ``best`` resolves to is what a run would
get, and "split batch" is what a run would do.

Prints (or writes) one JSON object; see ``qtui.session.capabilities`` for the reader.
It imports torch and pennylane, so it only ever runs in a child.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import warnings
from importlib import metadata
from typing import Any

PROBE_VERSION = 1
PROBE_WIRES = 2

#: Devices that run the circuit but simulate nothing; shown, with this note.
NOTES = {
    "null.qubit": "simulates nothing (returns zeros): useful only to measure overhead",
}

_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def clean_reason(exc: BaseException) -> str:
    """PennyLane's message, made stable (no object addresses) and one paragraph."""
    text = _ADDR.sub("", str(exc)).strip() or type(exc).__name__
    text = " ".join(text.split())
    if len(text) > 400:
        text = text[:397] + "..."
    return f"{type(exc).__name__}: {text}"


def discover_devices() -> list[tuple[str, str]]:
    """(device name, distribution) for every installed PennyLane device."""
    found: dict[str, str] = {}
    for ep in metadata.entry_points(group="pennylane.plugins"):
        dist = getattr(getattr(ep, "dist", None), "name", "") or ""
        found.setdefault(ep.name, dist)
    return sorted(found.items())


def probe_method(device: str, method: str) -> dict[str, Any]:
    """Forward + backward of the forum circuit on a batch of 2 for one combination."""
    import torch

    from qtui.core.config import WorkloadParams
    from qtui.engine.forum import make_circuit
    from qtui.engine.workload import WorkloadContext

    t0 = time.perf_counter()
    ctx = WorkloadContext(device=device, diff_method=method, params=WorkloadParams())
    out: dict[str, Any] = {"supported": False, "reason": None, "resolved": None, "split_batch": False}
    try:
        layer = ctx.torch_layer(
            make_circuit(PROBE_WIRES, 1), {"weights": (PROBE_WIRES,)}, wires=PROBE_WIRES
        )
        inputs = torch.tensor([[0.1, -0.3], [0.5, 0.2]], requires_grad=True)
        result = layer(inputs)
        result.sum().backward()
        grads = [p.grad for p in layer.parameters()]
        if any(g is None for g in grads):
            raise RuntimeError("backward produced no gradient for the circuit's weights")
        out["supported"] = True
    except Exception as exc:  # noqa: BLE001 - boundary: the failure is the probe's answer (its reason)
        out["reason"] = clean_reason(exc)
    if out["supported"]:
        out["resolved"] = ctx.resolved_diff_method or method
        out["split_batch"] = bool(ctx.split_batch)
    out["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def probe_device(name: str, dist: str) -> dict[str, Any]:
    import pennylane as qml

    from qtui.core.config import DIFF_METHODS

    info: dict[str, Any] = {
        "name": name,
        "package": dist,
        "usable": False,
        "reason": None,
        "note": NOTES.get(name),
        "methods": {},
    }
    try:
        qml.device(name, wires=PROBE_WIRES)
    except Exception as exc:  # noqa: BLE001 - boundary: missing extras, no GPU...: the device's reason
        info["reason"] = f"cannot be created with wires={PROBE_WIRES}: {clean_reason(exc)}"
        return info
    methods = {m: probe_method(name, m) for m in DIFF_METHODS}
    info["methods"] = methods
    if any(m["supported"] for m in methods.values()):
        info["usable"] = True
    else:
        # "best" is PennyLane's own choice, so its failure is the most telling one.
        why = methods.get("best") or next(iter(methods.values()))
        info["reason"] = f"the forum circuit fails with every diff method: {why['reason']}"
    return info


def probe() -> dict[str, Any]:
    t0 = time.perf_counter()
    import pennylane  # noqa: F401
    import torch

    torch.manual_seed(0)
    import_s = time.perf_counter() - t0
    from qtui.core.config import DIFF_METHODS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        devices = [probe_device(name, dist) for name, dist in discover_devices()]
    return {
        "probe_version": PROBE_VERSION,
        "python": sys.executable,
        "versions": _versions(),
        "methods": list(DIFF_METHODS),
        "devices": devices,
        "probed_at": time.time(),
        "import_s": round(import_s, 3),
        "probe_s": round(time.perf_counter() - t0, 3),
    }


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("pennylane", "pennylane-lightning", "torch", "qtui"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qtui.engine.probe")
    parser.add_argument("--out", help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    data = json.dumps(probe(), indent=1)
    if args.out:
        tmp = f"{args.out}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(data + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    from qtui.engine.reaper import die_with_parent

    die_with_parent()  # a killed qtui does not leave this child running (Linux)
    code = main()
    sys.stderr.flush()
    # Skip interpreter teardown (about a second with torch and pennylane loaded).
    os._exit(code)
