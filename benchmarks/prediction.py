"""How well qtui's cost model predicts beyond the sizes it was fitted on (issue 25, item 4).

One ``qtui sweep`` measures every size, the fitted ones and the checked ones
(``--max-memory 0``: nothing is skipped); then each combination's model is
fitted on the ``--fit`` sizes only, exactly as ``qtui sweep --predict`` does
(``qtui.analysis.predictions``), and its predictions at the ``--check`` sizes
are set beside what was measured there.  Per figure (time per step, peak
memory) it prints the prediction, its 90 % interval, the measurement, their
ratio (measured / predicted) and whether the interval held, then the coverage.

    python benchmarks/prediction.py [--fit 2,4,6,8,10,12,14] [--check 16,18]
        [--combos default.qubit+backprop,lightning.qubit+adjoint,...] [--steps 3]
        [--save sweep.json | --from sweep.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from qtui.analysis.predictions import memory_at, models
from qtui.core import units
from qtui.core.summary_schema import SweepPoint

COMBOS = ("default.qubit+backprop,lightning.qubit+adjoint,default.qubit+adjoint,"
          "lightning.qubit+parameter-shift")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--fit", default="2,4,6,8,10,12,14")
    ap.add_argument("--check", default="16,18")
    ap.add_argument("--combos", default=COMBOS)
    ap.add_argument("--steps", default="3")
    ap.add_argument("--warmup", default="1")
    ap.add_argument("--save", default=None, help="keep the sweep's summary JSON here")
    ap.add_argument("--from", dest="source", default=None,
                    help="refit a summary saved with --save instead of measuring again")
    args = ap.parse_args()
    fit = [int(x) for x in args.fit.split(",")]
    check = [int(x) for x in args.check.split(",")]
    if args.source:
        series = json.loads(Path(args.source).read_text())["sweep"]["qubits"]["series"]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(args.save) if args.save else Path(tmp) / "sweep.json"
            cmd = [sys.executable, "-m", "qtui", "sweep", "--combos", args.combos,
                   "--qubits", ",".join(str(x) for x in fit + check), "--steps", args.steps,
                   "--warmup", args.warmup, "--max-memory", "0", "--json", str(out), "--force"]
            print("$ " + " ".join(cmd[2:]), flush=True)
            subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
            series = json.loads(out.read_text())["sweep"]["qubits"]["series"]
    lines = {label: [SweepPoint(**p) for p in points] for label, points in series.items()}
    fitted = models({label: [p for p in pts if p.x in fit] for label, pts in lines.items()})
    held = total = 0
    print(f"\n{'combination':<33}{'figure':<9}{'n':>3}  {'predicted':>10}  {'90 % interval':<23}"
          f"{'measured':>10}  {'meas/pred':>9}  held")
    for label, pts in lines.items():
        measured = {p.x: p for p in pts}
        for figure, fmt in (("time_per_step", units.seconds), ("peak_rss", units.memory)):
            m = fitted[label][figure]
            for n in check:
                pt = measured.get(n)
                got = memory_at(m, n) if figure == "peak_rss" else m.predict(n)
                value = getattr(pt, figure) if pt is not None else None
                if got is None or value is None:
                    why = m.reason or "not measured (the run failed or was skipped)"
                    print(f"{label:<33}{figure[:8]:<9}{n:>3}  {why}")
                    continue
                pred, low, high = got
                ok = low <= value <= high
                held += ok
                total += 1
                span = f"{fmt(low)}–{fmt(high)}"
                print(f"{label:<33}{figure[:8]:<9}{n:>3}  {fmt(pred):>10}  {span:<23}{fmt(value):>10}"
                      f"  {value / pred:>9.2f}  {'yes' if ok else 'NO'}")
    print(f"\nthe 90 % interval held {held} of {total} times "
          f"(fitted on {fit[0]}-{fit[-1]} qubits, checked at {', '.join(map(str, check))})")


if __name__ == "__main__":
    main()
