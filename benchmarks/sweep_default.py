"""The default sweep of issue 9 (item 5), and the no-flag ``qtui sweep``, on this machine.

With no flags this runs the sweep issue 9 measured at 5.7x (``benchmarks/
sweep_default.py`` as first written, commit 4a76211): the four common
combinations (default.qubit+backprop, default.qubit+adjoint,
default.qubit+parameter-shift, lightning.qubit+adjoint) at 2, 4, 6 and 8
qubits, at ``qtui sweep``'s own default of 20 measured steps after 3 warm-up
steps (``qtui.core.sweep.DEFAULT_STEPS``/``DEFAULT_WARMUP``).  ``--no-flags`` runs
``qtui sweep`` exactly as a user who gives no flags does (default.qubit and
lightning.qubit x backprop and adjoint at 2, 4 and 8 qubits: 9 runs).  It
prints the total
wall time of the sweep, the per-step table, and the crossovers it found.  The
total time is reported against the sum of the runs' own training time in the
same sweep (the rest is process start, imports and model construction), and
where that rest goes, from the sweep's own event log: qtui's start before the
session, the fork server's one-time start (its note), each run's start
(launch to ``run_started``: fork, thread pools, model build), the warm-up
steps, the measured steps, the end of each run and the gaps between runs.
``--small`` runs a 4-run variant (2 combinations x 2, 8 qubits).

    python benchmarks/sweep_default.py [--combos LIST] [--qubits LIST] [--steps N] [--small | --no-flags]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: The four common combinations of issue 9's default sweep.
COMMON = (
    "default.qubit+backprop,default.qubit+adjoint,"
    "default.qubit+parameter-shift,lightning.qubit+adjoint"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qubits", default="2,4,6,8", help="qubit counts (default 2,4,6,8)")
    ap.add_argument("--steps", default=None, help="measured steps (default: qtui sweep's)")
    ap.add_argument("--combos", default=COMMON, help="combinations (default: the four common ones)")
    ap.add_argument("--small", action="store_true", help="2 combinations at 2 and 8 qubits")
    ap.add_argument("--no-flags", action="store_true", help="qtui sweep exactly as with no flags")
    args = ap.parse_args()
    if args.no_flags:
        args.combos = args.qubits = args.steps = None
    elif args.small:
        args.combos, args.qubits = "default.qubit+backprop,lightning.qubit+adjoint", "2,8"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep.json"
        log = Path(tmp) / "events.jsonl"
        t0 = time.perf_counter()
        t0_wall = time.time()
        flags = [
            item
            for flag, value in (("--combos", args.combos), ("--qubits", args.qubits), ("--steps", args.steps))
            if value is not None
            for item in (flag, value)
        ]
        proc = subprocess.run(
            [sys.executable, "-m", "qtui", "sweep", *flags, "--json", str(out), "--events", str(log)],
            check=False,
        )
        total = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            print(f"sweep failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        data = json.loads(out.read_text())
        events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    trained = sum(sum(r.get("times") or []) for r in data["results"])
    runs = sum(len(r.get("times") or []) for r in data["results"])
    print()
    print(f"sweep {' '.join(flags) or '(no flags: the default)'}: {runs} runs, total wall time {total:.1f} s on this machine")
    print(f"  of which training (measured steps): {trained:.1f} s; ratio total/training = "
          f"{total / trained:.2f}x (the rest is child start-up, imports, warm-up, model build)")
    rows = breakdown(events, t0_wall, total)
    for name, secs in rows:
        print(f"  {name:<44} {secs:6.1f} s")
    # issue 24's figure: against what a user of the libraries cannot avoid either (one
    # import of torch and pennylane, the warm-up steps, the measured training); target <= 1.10
    part = dict(rows)
    floor = sum(part.get(k, 0.0) for k in (
        "fork server start (once)", "warm-up steps (and the run's first events)", "measured training"))
    if floor > 0:
        print(f"  total / (one import + warm-up + training) = {total:.1f} / {floor:.1f} s = "
              f"{total / floor:.2f}x (target <= 1.10x); qtui's own part {total - floor:.1f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  load average now {load:.2f} on {os.cpu_count()} CPUs")
    for axis in data.get("sweep", {}).values():
        for line in axis.get("crossovers", []):
            print(f"  crossover: {line}")
    return 0


def breakdown(events: list[dict[str, Any]], t0_wall: float, total: float) -> list[tuple[str, float]]:
    """Where the sweep's wall time went, from its event log (see the module docstring)."""
    rows: dict[str, float] = {}
    first = events[0]["t"] if events else t0_wall
    rows["qtui start, before the session"] = first - t0_wall
    for e in events:
        if e["type"] == "note" and str(e.get("message", "")).startswith("fork server"):
            m = re.search(r"started in ([0-9.]+) s", e["message"])
            if m:
                rows["fork server start (once)"] = float(m.group(1))
    runs: dict[str, dict[str, float]] = {}
    for e in events:
        rid = e.get("run_id")
        if not rid:
            continue
        r = runs.setdefault(rid, {})
        kind = e["type"]
        if kind in ("run_launched", "run_started", "run_finished") and kind not in r:
            r[kind] = e["t"]
            if kind == "run_finished":
                r["train_s"] = float(e.get("train_s") or 0)
        if kind == "batch":
            r.setdefault("first_batch_elapsed", float(e.get("elapsed_s") or 0))
            r["last_batch"] = e["t"]
    start = warm = measured = end = 0.0
    for r in runs.values():
        if {"run_launched", "run_started", "run_finished", "last_batch"} <= set(r):
            start += r["run_started"] - r["run_launched"]
            span = r["last_batch"] - r["run_started"]
            measured += r["train_s"]
            warm += max(0.0, span - r["train_s"])
            end += r["run_finished"] - r["last_batch"]
    rows["runs' start (fork, pools, model build)"] = start
    rows["warm-up steps (and the run's first events)"] = warm
    rows["measured training"] = measured
    rows["runs' end (evaluation, run_finished)"] = end
    rows["the rest (between runs, qtui's exit)"] = total - sum(rows.values())
    return list(rows.items())


if __name__ == "__main__":
    sys.exit(main())
