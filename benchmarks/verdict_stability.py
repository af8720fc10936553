"""Do two identical sweeps agree on a busy node?  Contradictions between two runs.

Runs the same small ``qtui sweep`` twice, each time with a CPU hog beside it
(a busy Python loop per ``--hogs``), and compares the sweep verdicts
(``sweep.<axis>.verdicts[]``, ``qtui/analysis/crossovers.py``): a *contradiction* is
a pair of lines and a point that one sweep calls ``faster`` and the other
``slower``.  The target is zero.  ``tie`` and ``unstable`` never contradict:
they are the honest answer on a busy node.  The baseline measured in the same
run is the same comparison made with the old single-run rule (a 5 %
threshold on the means, no test, no contention): its contradictions show
what the one statistical rule and the stability checks buy.

    python benchmarks/verdict_stability.py [--qubits 2,6,10] [--repeat 3] [--hogs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

COMBOS = "default.qubit+backprop,lightning.qubit+adjoint,default.qubit+adjoint"
HOG = "while True:\n    pass\n"


def sweep(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "qtui", "sweep", "--combos", args.combos,
             "--qubits", args.qubits, "--steps", args.steps, "--repeat", args.repeat,
             "--json", str(out), "--force"],
            capture_output=True, text=True, env={**os.environ, "QTUI_NO_HISTORY": "1"},
        )
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    if proc.returncode not in (0, 1):
        sys.exit(f"qtui sweep failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(out.read_text())


def verdicts(summary: dict[str, Any]) -> dict[tuple[str, str, Any], str]:
    out = {}
    for data in (summary.get("sweep") or {}).values():
        for v in data.get("verdicts") or []:
            out[(v["a"], v["b"], v["point"])] = v["verdict"]
    return out


def naive(summary: dict[str, Any]) -> dict[tuple[str, str, Any], str]:
    """The old rule: means within 5 % are a tie, else the faster mean wins."""
    out = {}
    for data in (summary.get("sweep") or {}).values():
        lines = data.get("series") or {}
        names = list(lines)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                bx = {p["x"]: p for p in lines[b]}
                for p in lines[a]:
                    q = bx.get(p["x"])
                    if q is None:
                        continue
                    ta, tb = p["time_per_step"], q["time_per_step"]
                    word = "tie" if abs(ta - tb) <= 0.05 * min(ta, tb) else (
                        "faster" if ta < tb else "slower")
                    out[(a, b, p["x"])] = word
    return out


def contradictions(x: dict[Any, str], y: dict[Any, str]) -> int:
    return sum(1 for k in x.keys() & y.keys() if {x[k], y[k]} == {"faster", "slower"})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qubits", default="2,6,10")
    ap.add_argument("--steps", default="10")
    ap.add_argument("--repeat", default="3")
    ap.add_argument("--hogs", type=int, default=1)
    ap.add_argument("--combos", default=COMBOS)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        first = sweep(args, Path(tmp) / "a.json")
        second = sweep(args, Path(tmp) / "b.json")
    va, vb = verdicts(first), verdicts(second)
    na, nb = naive(first), naive(second)
    counts: dict[str, int] = {}
    for v in list(va.values()) + list(vb.values()):
        counts[v] = counts.get(v, 0) + 1
    print(f"points compared: {len(va.keys() & vb.keys())} per sweep; verdicts over both: {counts}")
    print(f"contradictions, one rule + stability: {contradictions(va, vb)} (target 0)")
    print(f"contradictions, old 5 % rule (baseline, same data): {contradictions(na, nb)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
