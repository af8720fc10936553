"""The same 8-point sweep on the local executor and as a SLURM job array (issue 13).

Runs ``qtui sweep`` twice on this machine, interleaved per round: once with the
local executor (a child of qtui per run, from one warm fork server) and once
with ``--executor slurm`` against the cluster ``SLURM_CONF`` points at (on a
one-node cluster on the same machine, ``scripts/local-slurm start``, jobs run
one at a time: ``--exclusive``).  Prints, per round:

* the total wall time of each, and their ratio slurm / local (target <= 1.2 for
  runs of >= 10 s; the figure is the median over the rounds), for each
  ``--runs-per-job`` value given (default 1 and 8: one job per run, each
  importing torch and pennylane; or the 8 runs in one job, imported once);
* per job, the latency from submission (sbatch accepted the array) to the
  job's first event (its session_started, written on the node) and to its
  run_started (fork server warm, model built): queueing, python and imports;
* the training time of each arm (the same work, so the same within noise), and
  the ratio with each arm's own training time replaced by the local arm's
  (``normalised``): on a busy machine training time itself drifts by tens of
  per cent between arms, which says nothing about the executor; the
  normalised ratio keeps only what the executor adds (submission, queueing,
  python and imports per job, following the files).

The sweep: lightning.qubit+adjoint at 2..9 qubits, ``--steps`` measured steps
(default 1000, ~10 s a run here) after 3 warm-up steps.  ``--cluster local``
runs the SLURM arm on submitit's local executor instead (a dry run: its jobs
all start at once, so its timing is not a cluster's).

    eval "$(scripts/local-slurm start)"   # a one-node cluster, as root
    python benchmarks/slurm_sweep.py [--rounds 1] [--steps 1000] [--runs-per-job 1,8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def sweep(flags: list[str], out: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "sweep", *flags, "--json", str(out)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"qtui sweep failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall


def latencies(jobs_dir: Path) -> list[tuple[str, float, float]]:
    """(run_id, submit->first event, submit->run_started) per job of the session."""
    from qtui.cluster.jobs_folder import find_session, read_manifest

    folder = find_session(jobs_dir)
    rows = []
    for job in read_manifest(folder).jobs:
        first = started = float("nan")
        for line in (folder / job.events).read_text().splitlines():
            e = json.loads(line)
            if first != first:  # nan: the first line
                first = e["t"] - job.submitted
            if e["type"] == "run_started":
                started = e["t"] - job.submitted
                break
        rows.append((job.run_id, first, started))
    return rows


def trained(path: Path) -> float:
    data: dict[str, Any] = json.loads(path.read_text())
    return sum(sum(r.get("times") or []) for r in data["results"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--steps", default="1000")
    ap.add_argument("--qubits", default="2,3,4,5,6,7,8,9")
    ap.add_argument("--combos", default="lightning.qubit+adjoint")
    ap.add_argument("--cluster", choices=("slurm", "local"), default="slurm")
    ap.add_argument("--runs-per-job", default="1,8", help="SLURM arms to run (default 1,8)")
    args = ap.parse_args()
    env = {**os.environ, "QTUI_NO_HISTORY": "1", "QTUI_SUBMITIT_CLUSTER": args.cluster}
    if args.cluster == "slurm" and (not os.environ.get("SLURM_CONF") or not shutil.which("sbatch")):
        print("no SLURM here: run  eval \"$(scripts/local-slurm start)\"  first (root), "
              "or --cluster local for a dry run", file=sys.stderr)
        return 2
    samples = str(5 * (int(args.steps) + 3) + 10)
    common = ["--combos", args.combos, "--qubits", args.qubits, "--steps", args.steps,
              "--warmup", "3", "--samples", samples, "--batch-size", "5"]
    arms = [int(x) for x in args.runs_per_job.split(",")]
    ratios: dict[int, list[float]] = {n: [] for n in arms}
    normalised: dict[int, list[float]] = {n: [] for n in arms}
    for r in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            local = sweep(common, t / "local.json", env)
            print(f"round {r}: local {local:.1f} s (training {trained(t / 'local.json'):.1f} s)")
            for n in arms:
                jobs = t / f"jobs{n}"
                cluster = sweep(
                    [*common, "--executor", "slurm", "--jobs-dir", str(jobs), "--time-limit", "60",
                     "--runs-per-job", str(n)],
                    t / f"slurm{n}.json", env,
                )
                ratios[n].append(cluster / local)
                rows = latencies(jobs)
                norm = (cluster - trained(t / f"slurm{n}.json") + trained(t / "local.json")) / local
                normalised[n].append(norm)
                print(f"  slurm, {n} run(s) per job: {cluster:.1f} s (training "
                      f"{trained(t / f'slurm{n}.json'):.1f} s): {cluster / local:.3f}x local, "
                      f"normalised {norm:.3f}x; "
                      f"first job: submission -> first event {rows[0][1]:.2f} s, first event -> "
                      f"run_started (imports, build) {rows[0][2] - rows[0][1]:.2f} s")
    load = os.getloadavg()[0]
    for n in arms:
        print(f"slurm ({n} run(s) per job) / local total wall time: median "
              f"{statistics.median(ratios[n]):.3f}x, normalised to the same training time "
              f"{statistics.median(normalised[n]):.3f}x, over {len(ratios[n])} round(s) "
              "(target <= 1.2)")
    print(f"load average now {load:.2f} on {os.cpu_count()} CPUs; cluster: {args.cluster}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
