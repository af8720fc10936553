"""Overhead of qtui on training time: ``qtui run`` against the plain forum script.

Runs the forum workload through ``qtui run`` (its own child process, events
over a pipe, the psutil sampler at its default 10 Hz) and through
``benchmarks/plain_forum.py`` (the forum's script by hand, same seeds and
model), interleaved ``--pairs`` times (plain, qtui, plain, qtui, ...) so
drift on a shared machine hits both alike.  Compares the training-loop time
each reports (qtui's ``train_s`` from ``--json``) and prints the ratio of
medians, qtui / plain (target ≤ 1.02, issue 9).  Also checks both give the
same per-epoch losses.

``--phases`` names the qtui arms by their phase timing (``QTUI_PHASE_EVERY``
in the run's environment): ``sampled`` (qtui's default: hooks on one step in
10), ``off`` (no phase timing), ``all`` (hooks on every step, as before issue
9), ``quiet`` (no phase timing, and the sampler once per 10 s instead of 10 Hz:
the parent's sampling told apart from the child's own work), ``spawn`` (no phase
timing, the run in a fresh interpreter, ``qtui --isolation spawn``: a fork of
the warm server told apart from a process of its own), ``pretouch`` (``off``, and the
run copies the pages it shares with the fork server before its window,
``QTUI_PRETOUCH=1``: the fork's copy-on-write faults moved out of it), ``bare`` (qtui's child
process started by this script, phase timing sampled: the run's own process with
no qtui parent, sampler or fork server around it).  Each round runs the plain script once and every arm once, so
``--phases sampled,off`` gives the ratio with and without phase timing under
the same conditions.

Each arm's page faults over the measured window (``ru_minflt``, ``ru_majflt`` of the
run's process: qtui's ``minor_faults``/``major_faults``; the plain script counts its
own the same way) are printed too, median per arm: a forked child that writes to
pages it shares with the fork server pays a copy-on-write fault for each (issue 24).

    python benchmarks/overhead.py [--pairs 10] [--phases sampled,off] [--epochs 6] [--device default.qubit]
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
from typing import NamedTuple

HERE = Path(__file__).resolve().parent


#: --phases arm -> (QTUI_PHASE_EVERY, --interval, --isolation, QTUI_PRETOUCH): "quiet" is
#: "off" with the sampler reading once per 10 s, to tell the parent's sampling from the
#: child's own work; "spawn" is "off" in a fresh interpreter instead of a fork of the warm
#: server; "pretouch" is "off" with the fork's shared pages copied before the window.
Arm = tuple[str | None, str, str, str | None]
ARMS: dict[str, Arm] = {
    "sampled": (None, "0.1", "process", None), "off": ("0", "0.1", "process", None),
    "all": ("1", "0.1", "process", None), "quiet": ("0", "10", "process", None),
    "spawn": ("0", "0.1", "spawn", None), "pretouch": ("0", "0.1", "process", "1"),
}


class Measured(NamedTuple):
    """One run's training-loop wall time, its CPU time and page faults over the same span,
    its losses."""

    train_s: float
    core_s: float
    losses: list[float]
    minor_faults: int | None = None
    major_faults: int | None = None


def _faults(data: dict[str, object]) -> tuple[int | None, int | None]:
    """(minor, major) page faults from a result or event; None where it has none."""
    minor, major = data.get("minor_faults"), data.get("major_faults")
    return (int(minor) if isinstance(minor, int) else None,
            int(major) if isinstance(major, int) else None)


def run_qtui(
    device: str, method: str, out: Path, arm: Arm = (None, "0.1", "process", None), epochs: int = 6
) -> Measured:
    every, interval, isolation, pretouch = arm
    env = dict(os.environ, QTUI_NO_HISTORY="1")
    env.pop("QTUI_PHASE_EVERY", None)
    env.pop("QTUI_PRETOUCH", None)
    if every is not None:
        env["QTUI_PHASE_EVERY"] = every
    if pretouch is not None:
        env["QTUI_PRETOUCH"] = pretouch
    subprocess.run(
        [sys.executable, "-m", "qtui", "--isolation", isolation, "run", "--device", device, "--diff-method", method,
         "--epochs", str(epochs), "--interval", interval, "--json", str(out), "--force"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    summary = json.loads(out.read_text())
    (run,) = summary["runs"]
    r = run["result"]
    return Measured(float(r["train_s"]), float(r["core_s"]), [float(x) for x in run["epoch_losses"]],
                    *_faults(r))


def run_bare(device: str, method: str, out: Path, epochs: int = 6) -> Measured:
    """qtui's child alone (``python -m qtui.engine.child``, spawned by this script, events
    to a file): the run's own process with no qtui parent, sampler or fork server."""
    from qtui.core.config import RunSpec, WorkloadParams

    spec = RunSpec(device, method, WorkloadParams(epochs=epochs), run_id="r1")
    log = out.with_suffix(".bare.jsonl")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        subprocess.run(
            [sys.executable, "-m", "qtui.engine.child"], input=json.dumps(spec.to_dict()) + "\n",
            text=True, check=True, pass_fds=(fd,), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=dict(os.environ, QTUI_EVENT_FD=str(fd)),
        )
    finally:
        os.close(fd)
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "run_finished":
            return Measured(float(event["train_s"]), float(event["core_s"]),
                            [float(x) for x in event["epoch_losses"]], *_faults(event))
    raise SystemExit(f"the bare child did not finish: {log.read_text()[-2000:]}")


def run_plain(device: str, method: str, epochs: int = 6) -> Measured:
    proc = subprocess.run(
        [sys.executable, str(HERE / "plain_forum.py"), device, method, str(epochs)],
        check=True, capture_output=True, text=True,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measured(float(data["train_s"]), float(data["core_s"]), [float(x) for x in data["epoch_losses"]],
                    *_faults(data))


def fault_line(runs: list[Measured]) -> str:
    """``page faults in the window: minor median 1234 (min 1200), major median 0``."""
    minor = [q.minor_faults for q in runs if q.minor_faults is not None]
    major = [q.major_faults for q in runs if q.major_faults is not None]
    if not minor:
        return "page faults in the window: not counted"
    return (f"page faults in the window: minor median {statistics.median(minor):.0f} "
            f"(min {min(minor)}, max {max(minor)}), major median {statistics.median(major):.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--device", default="default.qubit")
    ap.add_argument("--diff-method", default="backprop")
    ap.add_argument("--epochs", type=int, default=6,
                    help="epochs per run (the forum's 6: ~0.8 s of training here; more "
                    "epochs average out a busy machine's bursts)")
    ap.add_argument("--phases", default="sampled",
                    help="qtui arms, comma-separated: sampled (default), off, all, quiet "
                    "(off, and the sampler once per 10 s), spawn (off, a fresh interpreter), "
                    "pretouch (off, the fork's shared pages copied before the window), "
                    "bare (qtui's child alone: no qtui parent, sampler or fork server)")
    args = ap.parse_args()
    arms = [a.strip() for a in args.phases.split(",") if a.strip()]
    bad = [a for a in arms if a not in ARMS and a != "bare"]
    if bad or not arms:
        ap.error(f"--phases: one or more of {', '.join(ARMS)}, bare, got {args.phases!r}")
    q_runs: dict[str, list[Measured]] = {a: [] for a in arms}
    p_runs: list[Measured] = []
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        for i in range(args.pairs):
            p = run_plain(args.device, args.diff_method, args.epochs)
            p_runs.append(p)
            tp, lp = p.train_s, p.losses
            parts = [f"plain {tp:.3f} s"]
            for arm in arms:
                if arm == "bare":
                    q = run_bare(args.device, args.diff_method, out, args.epochs)
                else:
                    q = run_qtui(args.device, args.diff_method, out, ARMS[arm], args.epochs)
                q_runs[arm].append(q)
                tq, lq = q.train_s, q.losses
                same = [round(x, 4) for x in lq] == [round(x, 4) for x in lp]
                parts.append(f"qtui[{arm}] {tq:.3f} s ({tq / tp:.3f}x{'' if same else ', LOSSES DIFFER'})")
                if not same:
                    print(f"  losses differ: qtui {lq} plain {lp}", file=sys.stderr)
            print(f"round {i + 1}: " + "   ".join(parts), flush=True)
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    p_times = [p.train_s for p in p_runs]
    p_cpu = [p.core_s for p in p_runs]
    p_med = statistics.median(p_times)
    print(f"{args.device}+{args.diff_method}, {args.epochs} epochs, {args.pairs} interleaved rounds, "
          f"cpu count {os.cpu_count()}, "
          f"load average {load0:.2f} at start, {load1:.2f} at end")
    print(f"plain         train_s median {p_med:.3f} s  (min {min(p_times):.3f})")
    print(f"{'':<14} {fault_line(p_runs)}")
    for arm in arms:
        qs = [q.train_s for q in q_runs[arm]]
        cpu = [q.core_s for q in q_runs[arm]]
        ratios = [q / p for q, p in zip(qs, p_times, strict=True)]
        print(f"qtui[{arm:<8}] train_s median {statistics.median(qs):.3f} s  (min {min(qs):.3f})   "
              f"ratio median/median {statistics.median(qs) / p_med:.3f}   "
              f"median of round ratios {statistics.median(ratios):.3f}   "
              f"min/min {min(qs) / min(p_times):.3f}   target <= 1.02")
        print(f"{'':<14} CPU time over the loop (all threads): median/median "
              f"{statistics.median(cpu) / statistics.median(p_cpu):.3f}   min/min "
              f"{min(cpu) / min(p_cpu):.3f}  (tracks the wall ratio: the run computes slower; "
              "well below it: the run waited)")
        print(f"{'':<14} {fault_line(q_runs[arm])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
