"""UI event-loop lag while a default.qubit + backprop run trains: process vs thread mode.

Each mode runs in a fresh process: the app is driven headless (``run_test``)
on the Monitor tab, the forum's default run is started, and a coroutine that
asks to sleep 10 ms records how late it wakes up.  That lateness is the time
the event loop could not react to a key or paint a frame.  The same
measurement with no run (``idle``) is the same-run baseline.

Reported per mode: p50 / p99 / max lateness over the whole session (including
the run's start-up: in thread mode torch and pennylane are imported inside the
UI process) and over training only (run_started to run_finished).
Target: p99 < 50 ms in process mode.

    python benchmarks/ui_lag.py [--epochs 6]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import asyncio, json, sys, time
import psutil
from qtui.core.config import RunSpec, WorkloadParams
from qtui.ui.app import QtuiApp
from qtui.ui.form_capabilities import StaticCapabilities
from qtui.ui.messages import StartRequested

mode, epochs, idle_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

async def main():
    app = QtuiApp(isolation="thread" if mode == "thread" else "process", gpu=False,
                  capabilities=StaticCapabilities(["default.qubit"]), record_history=False,
                  persist_theme=False)
    lags = []  # (t, lateness)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if app.query("#start"):
                break
        app.action_tab("monitor")
        if mode != "idle":
            spec = RunSpec("default.qubit", "backprop", WorkloadParams(epochs=epochs))
            app.post_message(StartRequested([spec], 0.1, []))
        t_end = time.monotonic() + (idle_s if mode == "idle" else 600)
        await asyncio.sleep(0.2)
        while time.monotonic() < t_end:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((time.time(), time.perf_counter() - t - 0.01))
            if mode != "idle" and not app.control.active and app.state.runs():
                break
        runs = app.state.runs()
        rec = runs[0] if runs else None
        await pilot.pause(0.2)
    out = {
        "lags": lags,
        "train": [rec.t_start, rec.t_end] if rec and rec.t_start else None,
        "state": rec.state if rec else None,
        "train_s": (rec.result or {}).get("train_s") if rec else None,
        "rss_mb": psutil.Process().memory_info().rss / 1e6,
        "torch_in_ui": "torch" in sys.modules,
    }
    print("RESULT " + json.dumps(out))

asyncio.run(main())
"""


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def run(mode: str, epochs: int, idle_s: float) -> dict[str, object]:
    env_dir = tempfile.mkdtemp(prefix="qtui-lag-")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(epochs), str(idle_s)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "QTUI_CONFIG_DIR": env_dir},
        timeout=900,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{mode} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    result: dict[str, object] = json.loads(line[7:])
    return result


def summarise(mode: str, r: dict[str, object]) -> dict[str, float]:
    lags = [(t, lag * 1000) for t, lag in r["lags"]]  # type: ignore[union-attr,misc]
    all_ms = [x for _, x in lags]
    train = r.get("train")
    train_ms = [x for t, x in lags if train and train[0] <= t <= (train[1] or t)]  # type: ignore[index]
    return {
        "p50": pct(all_ms, 50),
        "p99": pct(all_ms, 99),
        "max": max(all_ms) if all_ms else float("nan"),
        "train_p50": pct(train_ms, 50),
        "train_p99": pct(train_ms, 99),
        "train_max": max(train_ms) if train_ms else float("nan"),
        "n": len(all_ms),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--idle-seconds", type=float, default=8.0)
    args = ap.parse_args()
    results = {}
    for mode in ("idle", "process", "thread"):
        r = run(mode, args.epochs, args.idle_seconds)
        s = summarise(mode, r)
        results[mode] = s
        print(
            f"{mode:>8}: lag p50 {s['p50']:6.1f} ms  p99 {s['p99']:6.1f} ms  max {s['max']:6.1f} ms"
            f" | training only p50 {s['train_p50']:6.1f}  p99 {s['train_p99']:6.1f}"
            f"  max {s['train_max']:6.1f} ms | n={s['n']}  run={r['state']}"
            f" train_s={r['train_s']}  UI RSS {r['rss_mb']:.0f} MB  torch in UI: {r['torch_in_ui']}"
        )
    base = results["idle"]["p99"]
    for mode in ("process", "thread"):
        print(
            f"{mode}: p99 {results[mode]['p99']:.1f} ms = {results[mode]['p99'] / base:.1f}x idle;"
            f" training-only p99 {results[mode]['train_p99']:.1f} ms"
            f" ({'meets' if results[mode]['p99'] < 50 else 'misses'} the < 50 ms target)"
        )


if __name__ == "__main__":
    main()
