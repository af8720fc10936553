"""The app's first ctrl+r: time from the key to the first loss point on the screen's data.

Issue 24, item 3: the app starts its fork server in the background when it
opens, so a user who spends longer than the import choosing in the form gets
the first run at once (target: <= 1 s after >= 5 s in the form).

Each round is a fresh process driving the real app headless (``run_test``,
process isolation, the form's defaults):

- ``form``: the app opens, the user spends ``--form-s`` seconds in the form
  (the prewarm runs meanwhile), then presses ctrl+r; the figure is the time
  from the key to the first batch loss of any run;
- ``warm``: in the same process, after those runs are cancelled, ctrl+r again
  on the now warm server: the baseline a user cannot beat (fork + build +
  the first step);
- ``cold``: the app opened without the prewarm, ctrl+r at once: what the
  prewarm saves.

Printed per arm: median and min over the rounds, and ``form`` / ``warm``
(median of round ratios), with the load average.

    python benchmarks/first_run.py [--rounds 5] [--form-s 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import asyncio, json, sys, time
from qtui.ui.app import QtuiApp
from qtui.ui.form_capabilities import StaticCapabilities

arm, form_s = sys.argv[1], float(sys.argv[2])

async def first_loss(app, pilot, before):
    t0 = time.perf_counter()
    await pilot.press("ctrl+r")
    started = None
    while True:
        runs = [r for r in app.state.runs() if r.run_id not in before]
        if started is None and any(r.started for r in runs):
            started = time.perf_counter() - t0
            first = next(r for r in runs if r.started)
            build = first.started.get("build_s")
        if any(len(r.batch_losses) for r in runs):
            return {"loss": time.perf_counter() - t0, "started": started, "build_s": build}
        if time.perf_counter() - t0 > 300:
            raise SystemExit("no loss point within 300 s")
        await asyncio.sleep(0.005)

async def ended(app, pilot):
    app.control.cancel_all()
    for _ in range(6000):
        if not app.control.active:
            return
        await asyncio.sleep(0.01)

async def main():
    app = QtuiApp(isolation="process", gpu=False, capabilities=StaticCapabilities(["default.qubit"]),
                  record_history=False, persist_theme=False, prewarm=arm != "cold")
    out = {}
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(500):
            await pilot.pause(0.02)
            if app.query("#start"):
                break
        if arm != "cold":
            await asyncio.sleep(form_s)
        out["first"] = await first_loss(app, pilot, set())
        await ended(app, pilot)
        if arm != "cold":
            app.action_tab("setup")
            await pilot.pause(0.1)
            before = {r.run_id for r in app.state.runs()}
            out["warm"] = await first_loss(app, pilot, before)
            await ended(app, pilot)
    print(json.dumps(out))

asyncio.run(main())
"""


def _round(arm: str, form_s: float, data_dir: str) -> dict[str, dict[str, float]]:
    env = dict(os.environ, QTUI_DATA_DIR=data_dir, QTUI_NO_HISTORY="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, arm, str(form_s)], capture_output=True,
                          text=True, env=env, timeout=900, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{arm} round failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, dict[str, float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--form-s", type=float, default=6.0, help="seconds spent in the form before ctrl+r")
    parser.add_argument("--arms", default="form,cold")
    args = parser.parse_args()
    import tempfile

    arms = args.arms.split(",")
    times: dict[str, list[float]] = {"form": [], "warm": [], "cold": []}
    ratios: list[float] = []
    parts: list[tuple[dict[str, float], dict[str, float]]] = []
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as data_dir:
        for i in range(args.rounds):
            for arm in arms:
                r = _round(arm, args.form_s, data_dir)
                if arm == "cold":
                    times["cold"].append(r["first"]["loss"])
                else:
                    times["form"].append(r["first"]["loss"])
                    times["warm"].append(r["warm"]["loss"])
                    ratios.append(r["first"]["loss"] / r["warm"]["loss"])
                    parts.append((r["first"], r["warm"]))
            print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items() if v), flush=True)
    for arm, values in times.items():
        if values:
            print(f"{arm:5s} median {statistics.median(values):.3f} s   min {min(values):.3f} s   (n={len(values)})")
    for name, index in (("first", 0), ("warm", 1)):
        if parts:
            seen = [p[index]["started"] for p in parts]
            built = [p[index]["build_s"] for p in parts]
            print(f"{name:5s} run_started seen after {statistics.median(seen):.3f} s (median), "
                  f"its build {statistics.median(built):.3f} s; the first step and the fold: the rest")
    if ratios:
        print(f"first ctrl+r after {args.form_s:g} s in the form / warm ctrl+r: median of round ratios "
              f"{statistics.median(ratios):.2f}x; first ctrl+r median {statistics.median(times['form']):.3f} s "
              "(target <= 1 s)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
