"""How well qtui's cost model predicts beyond the sizes it was fitted on (issue 25, item 4).

Two ``qtui sweep`` runs (``--max-memory 0``: nothing skipped): the fitted sizes
with ``--fit-repeat`` runs of ``--fit-steps`` steps each (the time model's noise
is then the repeats' spread, not the fit's residuals), and the checked sizes,
one run of ``--check-steps`` steps each (a step at 18 qubits takes up to ~40 s
here).  Each combination's model is fitted on the fitted sizes exactly as
``qtui sweep --predict`` does (``qtui.analysis.predictions``), and its
predictions at the checked sizes are set beside what was measured there.  Per
figure (time per step, peak memory) it prints the prediction, its 90 %
interval, the measurement, their ratio (measured / predicted) and whether the
interval held, then the coverage.  A time measured while other processes held
the CPUs (``contended``) is printed but not judged: the load, not the model,
made it.  The load average is printed before and after.

    python benchmarks/prediction.py [--fit 2,4,6,8,10,12,14] [--check 16,18]
        [--combos default.qubit+backprop,lightning.qubit+adjoint,...]
        [--fit-steps 10] [--fit-repeat 3] [--check-steps 3]
        [--save sweep.json | --from sweep.json]
        [--record tests/data/prediction_peaks.json --name NAME]

``--save`` keeps both sweeps' summaries in one file (``{"fit": …, "check": …}``);
``--from`` refits such a file, or a single summary holding every size (the
sweeps before 2026-12-08: one ``qtui sweep`` of 2–18 qubits, 3 steps each).
``--record`` adds the sweep's peaks to the file the memory band's tests read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qtui.analysis.crossovers import series
from qtui.analysis.predictions import memory_at, models
from qtui.core import units
from qtui.core.summary_schema import Summary, SweepPoint

COMBOS = ("default.qubit+backprop,lightning.qubit+adjoint,default.qubit+adjoint,"
          "lightning.qubit+parameter-shift")


def _sweep(combos: str, sizes: list[int], steps: str, warmup: str, repeat: str, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "qtui", "sweep", "--combos", combos,
           "--qubits", ",".join(str(x) for x in sizes), "--steps", steps, "--warmup", warmup,
           "--repeat", repeat, "--max-memory", "0", "--json", str(out), "--force"]
    print("$ " + " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _lines(doc: dict[str, Any]) -> dict[str, list[SweepPoint]]:
    """The summary's qubits series, rebuilt from its results (older files lack the
    circuit fields the memory band reads)."""
    return series(Summary.loads(json.dumps(doc)).results, "qubits")


def _load(args: argparse.Namespace, fit: list[int], check: list[int]) -> dict[str, Any]:
    if args.source:
        doc: dict[str, Any] = json.loads(Path(args.source).read_text())
        return doc if "fit" in doc else {"fit": doc, "check": doc}
    with tempfile.TemporaryDirectory() as tmp:
        docs = {
            "fit": _sweep(args.combos, fit, args.fit_steps, args.warmup, args.fit_repeat, Path(tmp) / "fit.json"),
            "check": _sweep(args.combos, check, args.check_steps, args.warmup, "1", Path(tmp) / "check.json"),
        }
    if args.save:
        Path(args.save).write_text(json.dumps(docs))
    return docs


def _record(path: Path, name: str, docs: dict[str, Any], lines: dict[str, list[SweepPoint]],
            measured: dict[str, list[SweepPoint]], load: str) -> None:
    """Add this sweep's peaks (fitted and checked sizes) to the recorded sweeps."""
    data = json.loads(path.read_text()) if path.exists() else {"sweeps": []}
    entry: dict[str, Any] = {
        "name": name,
        "source": f"python benchmarks/prediction.py ({docs['fit'].get('datetime', '')}, {load})",
        "commands": sorted({" ".join(docs[part].get("argv", [])) for part in ("fit", "check")}),
        "lines": {},
    }
    for label, pts in lines.items():
        every = {p.x: p for p in pts} | {p.x: p for p in measured.get(label, [])}
        first = next(iter(every.values()))
        entry["lines"][label] = {
            "diff_method": first.diff_method, "batch_size": first.batch_size,
            "layers": first.layers, "workload": first.workload,
            "peak_rss": {str(x): p.peak_rss for x, p in sorted(every.items()) if isinstance(x, int)},
            # each repeat's time per step, and the sizes whose runs ran beside other load
            "time_per_step": {str(x): p.values for x, p in sorted(every.items()) if isinstance(x, int)},
            "contended": [x for x, p in sorted(every.items()) if isinstance(x, int) and p.contended],
        }
    data["sweeps"] = [s for s in data["sweeps"] if s["name"] != name] + [entry]
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"recorded as {name!r} in {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--fit", default="2,4,6,8,10,12,14")
    ap.add_argument("--check", default="16,18")
    ap.add_argument("--combos", default=COMBOS)
    ap.add_argument("--fit-steps", default="10")
    ap.add_argument("--fit-repeat", default="3")
    ap.add_argument("--check-steps", default="3")
    ap.add_argument("--warmup", default="1")
    ap.add_argument("--save", default=None, help="keep both sweeps' summaries in this JSON file")
    ap.add_argument("--from", dest="source", default=None,
                    help="refit a file saved with --save (or one summary of every size)")
    ap.add_argument("--record", default=None, help="add the peaks to this JSON file (tests/data)")
    ap.add_argument("--name", default=None, help="the recorded sweep's name")
    args = ap.parse_args()
    fit = [int(x) for x in args.fit.split(",")]
    check = [int(x) for x in args.check.split(",")]
    before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    docs = _load(args, fit, check)
    after = os.getloadavg()
    load = (f"load average {before[0]:.1f} before, {after[0]:.1f} after, {after[2]:.1f} over 15 min"
            if not args.source else "refitted with --from")
    lines = {label: [p for p in pts if p.x in fit] for label, pts in _lines(docs["fit"]).items()}
    measured = {label: [p for p in pts if p.x in check] for label, pts in _lines(docs["check"]).items()}
    fitted = models(lines)
    held = {"time_per_step": 0, "peak_rss": 0}
    total = {"time_per_step": 0, "peak_rss": 0}
    contended = 0
    print(f"\n{'combination':<33}{'figure':<9}{'n':>3}  {'predicted':>10}  {'90 % interval':<25}"
          f"{'measured':>10}  {'meas/pred':>9}  held")
    for label in lines:
        at = {p.x: p for p in measured.get(label, [])}
        for figure, fmt in (("time_per_step", units.seconds), ("peak_rss", units.memory)):
            m = fitted[label][figure]
            for n in check:
                pt = at.get(n)
                got = memory_at(m, n) if figure == "peak_rss" else m.predict(n)
                value = getattr(pt, figure) if pt is not None else None
                if got is None or value is None:
                    why = m.reason or "not measured (the run failed or was skipped)"
                    print(f"{label:<33}{figure[:8]:<9}{n:>3}  {why}")
                    continue
                pred, low, high = got
                ok = low <= value <= high
                verdict = "yes" if ok else "NO"
                if figure == "time_per_step" and pt is not None and pt.contended:
                    verdict += " (contended: not judged)"
                    contended += 1
                else:
                    held[figure] += ok
                    total[figure] += 1
                span = f"{fmt(low)}–{fmt(high)}"
                print(f"{label:<33}{figure[:8]:<9}{n:>3}  {fmt(pred):>10}  {span:<25}{fmt(value):>10}"
                      f"  {value / pred:>9.2f}  {verdict}")
    noise = {label: f["time_per_step"].noise_from for label, f in fitted.items()}
    busy = sum(p.contended for pts in lines.values() for p in pts)
    points = sum(len(pts) for pts in lines.values())
    print(f"\nfitted on {fit[0]}-{fit[-1]} qubits, checked at {', '.join(map(str, check))}; "
          f"started {started}, {load}")
    print(f"time per step: the 90 % interval held {held['time_per_step']} of {total['time_per_step']}"
          + (f" ({contended} contended, not judged)" if contended else "")
          + f"; its noise from {', '.join(sorted(set(noise.values())))}"
          + (f"; {busy} of the {points} fitted points contended (their times are the load's too)"
             if busy else ""))
    print(f"peak memory: the band held {held['peak_rss']} of {total['peak_rss']}")
    if args.record:
        _record(Path(args.record), args.name or started, docs, lines, measured, load)


if __name__ == "__main__":
    main()
