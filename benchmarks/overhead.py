"""Overhead of qtui on training time: ``qtui run`` against the plain forum script.

Runs the forum workload through ``qtui run`` (its own child process, events
over a pipe, the psutil sampler at its default 10 Hz) and through
``benchmarks/plain_forum.py`` (the forum's script by hand, same seeds and
model), interleaved ``--pairs`` times (qtui, plain, qtui, plain, ...) so
drift on a shared machine hits both alike.  Compares the training-loop time
each reports (qtui's ``train_s`` from ``--json``) and prints the ratio of
medians, qtui / plain (target ≤ 1.05).  Also checks both give the same
per-epoch losses.

    python benchmarks/overhead.py [--pairs 5] [--device default.qubit] [--diff-method backprop]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_qtui(device: str, method: str, out: Path) -> tuple[float, list[float]]:
    subprocess.run(
        [sys.executable, "-m", "qtui", "run", "--device", device, "--diff-method", method,
         "--json", str(out), "--force"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    summary = json.loads(out.read_text())
    (run,) = summary["runs"]
    return float(run["result"]["train_s"]), [float(x) for x in run["epoch_losses"]]


def run_plain(device: str, method: str) -> tuple[float, list[float]]:
    proc = subprocess.run(
        [sys.executable, str(HERE / "plain_forum.py"), device, method],
        check=True, capture_output=True, text=True,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(data["train_s"]), [float(x) for x in data["epoch_losses"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--device", default="default.qubit")
    ap.add_argument("--diff-method", default="backprop")
    args = ap.parse_args()
    q_times: list[float] = []
    p_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        for i in range(args.pairs):
            tq, lq = run_qtui(args.device, args.diff_method, out)
            tp, lp = run_plain(args.device, args.diff_method)
            same = [round(x, 4) for x in lq] == [round(x, 4) for x in lp]
            q_times.append(tq)
            p_times.append(tp)
            print(f"pair {i + 1}: qtui {tq:.3f} s   plain {tp:.3f} s   "
                  f"ratio {tq / tp:.3f}   same losses: {same}", flush=True)
            if not same:
                print(f"  losses differ: qtui {lq} plain {lp}", file=sys.stderr)
    ratios = [q / p for q, p in zip(q_times, p_times, strict=True)]
    ratio_median = statistics.median(q_times) / statistics.median(p_times)
    ratio_mean = statistics.fmean(q_times) / statistics.fmean(p_times)
    print(f"{args.device}+{args.diff_method}, {args.pairs} interleaved pairs, cpu count {os.cpu_count()}")
    print(f"qtui  train_s median {statistics.median(q_times):.3f} s  (min {min(q_times):.3f})")
    print(f"plain train_s median {statistics.median(p_times):.3f} s  (min {min(p_times):.3f})")
    print(f"overhead ratio (median qtui / median plain): {ratio_median:.3f}   "
          f"(mean: {ratio_mean:.3f}, min/min: {min(q_times) / min(p_times):.3f}, "
          f"median of pair ratios: {statistics.median(ratios):.3f})   target <= 1.05")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load is not None:
        print(f"load average now {load[0]:.2f} on {os.cpu_count()} CPUs "
              "(other work on the machine makes single pairs noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
