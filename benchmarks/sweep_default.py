"""The default sweep: 2 to 8 qubits, the four common combinations, on this machine.

Runs ``qtui sweep`` for default.qubit+backprop, default.qubit+adjoint,
default.qubit+parameter-shift and lightning.qubit+adjoint at 2, 4, 6 and 8
qubits (10 measured steps after 3 warm-up steps each), then prints the total
wall time of the sweep, the per-step table, and the crossovers it found.  The
total time is reported against the sum of the runs' own training time in the
same sweep (the rest is process start, imports and model construction).

    python benchmarks/sweep_default.py [--qubits 2,4,6,8] [--steps 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMBOS = (
    "default.qubit+backprop,default.qubit+adjoint,"
    "default.qubit+parameter-shift,lightning.qubit+adjoint"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qubits", default="2,4,6,8")
    ap.add_argument("--steps", default="10")
    ap.add_argument("--combos", default=COMBOS)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable, "-m", "qtui", "sweep", "--combos", args.combos,
                "--qubits", args.qubits, "--steps", args.steps, "--warmup", "3",
                "--json", str(out),
            ],
            check=False,
        )
        total = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            print(f"sweep failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        data = json.loads(out.read_text())
    trained = sum(sum(r.get("times") or []) for r in data["results"])
    runs = sum(len(r.get("times") or []) for r in data["results"])
    print()
    print(f"default sweep: {runs} runs, total wall time {total:.1f} s on this machine")
    print(f"  of which training (measured steps): {trained:.1f} s; ratio total/training = "
          f"{total / trained:.1f}x (the rest is child start-up, imports, warm-up, model build)")
    for axis in data.get("sweep", {}).values():
        for line in axis.get("crossovers", []):
            print(f"  crossover: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
