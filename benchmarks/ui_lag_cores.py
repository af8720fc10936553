"""UI event-loop lag on many-core nodes: synthetic per-core samples at 10 Hz.

The app is driven headless (``run_test``) on the Monitor tab at 80×24 and
200×50.  A thread pushes ``Sample`` events with 8 (the baseline), 64, 128 and
256 per-core figures into the app's feed at ``--hz``, as the session
controller's thread does for a real run; a coroutine that asks to sleep 10 ms
records how late it wakes up: the time the event loop could not react to a key
or paint.  Every configuration runs in this one process, one after the other,
so the ratio against the 8-core baseline compares like with like.  The CPU
panel's own draw time is measured too.

Target (issue 10, item 17): p99 < 16 ms with 256 cores at 10 Hz.

    python benchmarks/ui_lag_cores.py [--seconds 5] [--hz 10]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import threading
import time

os.environ.setdefault("QTUI_CONFIG_DIR", tempfile.mkdtemp(prefix="qtui-bench-"))
os.environ.setdefault("QTUI_DATA_DIR", tempfile.mkdtemp(prefix="qtui-bench-"))

from qtui.core import events as ev  # noqa: E402
from qtui.ui.app import QtuiApp  # noqa: E402
from qtui.ui.form_capabilities import StaticCapabilities  # noqa: E402
from qtui.ui.widgets.cpu_panel import CpuPanel  # noqa: E402


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else float("nan")


def feeder(app: QtuiApp, cores: int, hz: float, stop: threading.Event) -> None:
    """What the supervisor's thread does: one sample of every core per interval."""
    app.feed.push(ev.RunQueued(run_id="r1", spec={"device": "default.qubit",
                                                   "diff_method": "backprop"}))
    app.feed.push(ev.RunLaunched(run_id="r1", pid=1))
    k = 0
    while not stop.wait(1 / hz):
        k += 1
        percpu = [50 + 50 * math.sin(i * 0.37 + k * 0.3) for i in range(cores)]
        app.feed.push(ev.Sample(run_id="r1", percpu=percpu, rss=10**8, peak_rss=10**8,
                                threads=8, peak_threads=8, cpu_s=k / hz, wall_s=k / hz,
                                cores_in_use=cores / 2))
        app.feed.push(ev.Batch(run_id="r1", epoch=1, batch=k, loss=1 / k, step=k, elapsed_s=k / hz))


async def measure(size: tuple[int, int], cores: int, seconds: float, hz: float) -> dict[str, float]:
    app = QtuiApp(capabilities=StaticCapabilities(["default.qubit"]), gpu=False,
                  record_history=False, persist_theme=False)
    lags: list[float] = []
    draws: list[float] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        app.action_tab("monitor")
        await pilot.pause(0.3)
        stop = threading.Event()
        thread = threading.Thread(target=feeder, args=(app, cores, hz, stop), daemon=True)
        thread.start()
        panel = app.query_one(CpuPanel)
        end = time.monotonic() + seconds
        await asyncio.sleep(0.5)  # the first samples in
        while time.monotonic() < end:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((time.perf_counter() - t - 0.01) * 1000)
        for _ in range(50):  # the panel's draw alone, at its size
            t = time.perf_counter()
            panel.render()
            draws.append((time.perf_counter() - t) * 1000)
        stop.set()
        thread.join()
        layout = panel.layout_used
    return {"p50": pct(lags, 50), "p99": pct(lags, 99), "max": max(lags), "n": len(lags),
            "draw_ms": pct(draws, 50), "layout": layout}  # type: ignore[dict-item]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--hz", type=float, default=10.0)
    args = ap.parse_args()
    print(f"UI lag, synthetic per-core samples at {args.hz:g} Hz, {args.seconds:g} s each "
          f"({os.cpu_count()} CPUs here)")
    for size in ((80, 24), (200, 50)):
        base = None
        for cores in (8, 64, 128, 256):
            r = await measure(size, cores, args.seconds, args.hz)
            base = base or r
            ratio = r["p99"] / base["p99"] if base["p99"] > 0 else float("nan")
            print(f"{size[0]}×{size[1]} {cores:>3} cores: lag p50 {r['p50']:5.2f} ms  "
                  f"p99 {r['p99']:5.2f} ms  max {r['max']:6.2f} ms  "
                  f"(p99 {ratio:4.2f}× the 8-core baseline)  panel draw {r['draw_ms']:.2f} ms "
                  f"[{r['layout']}]  n={r['n']}")
            if cores == 256:
                verdict = "meets" if r["p99"] < 16 else "misses"
                print(f"  256 cores at {size[0]}×{size[1]}: {verdict} the p99 < 16 ms target")


if __name__ == "__main__":
    asyncio.run(main())
