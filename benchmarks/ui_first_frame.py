"""Time from process start to the first frame: qtui against a bare Textual app, in one run.

Each measurement is a fresh ``python`` process (interpreter start and imports
included, as a user sees it), run headless at 80x24; the child reports when the
app first wrote a screen to the terminal (``App._display``), its CPU time then
(user + system, interpreter start included), its RSS and how many modules it had
loaded.  Three arms, measured in rotation in the same run so that machine load
falls on each alike:

* ``bare``: a Textual app of a ``Static`` and a ``Footer``, the floor;
* ``qtui``: the real entry, ``qtui.cli.main.main([])`` as ``python -m qtui`` runs it
  (the command line parsed, the app built with its background fork-server start);
* ``app``: ``QtuiApp`` imported and run directly (no command line).

The ratios are of medians against ``bare`` from the same run: wall time and CPU
time.  The CPU ratio moves less with other processes' load than the wall ratio;
both are printed with the load average before and after.  Target (issue 24):
qtui's first frame within 1.25x bare Textual's, on a quiet machine.

    python benchmarks/ui_first_frame.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 1.25

CHILD = r"""
import json, os, sys, time
import textual.app as textual_app

# The first frame is the first time the app writes a screen to the terminal
# (App._display).  A callback scheduled with call_after_refresh before run()
# fires only after the deferred (Lazy) panes have mounted too, so it measures
# more than the first paint; every arm is measured the same way here.
_display = textual_app.App._display
_run = textual_app.App.run
_seen = []

def _first_display(self, screen, renderable):
    if not _seen:
        _seen.append(time.time())
        cpu = time.process_time()  # user + system, ns resolution (os.times: 10 ms ticks)
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        heavy = [m for m in ("torch", "pennylane", "numpy") if m in sys.modules]
        print(json.dumps({"t": _seen[0], "cpu": cpu, "rss": rss, "heavy": heavy,
                          "modules": len(sys.modules)}), flush=True)
        self.call_later(self.exit)
    return _display(self, screen, renderable)

def _headless(self, *args, **kwargs):
    kwargs.update(headless=True, size=(80, 24))
    return _run(self, *args, **kwargs)

textual_app.App._display = _first_display
textual_app.App.run = _headless
kind = sys.argv[1]
if kind == "bare":
    from textual.widgets import Footer, Static

    class Bare(textual_app.App):
        def compose(self):
            yield Static("hello")
            yield Footer()

    Bare().run()
elif kind == "app":
    from qtui.ui.app import QtuiApp

    QtuiApp(record_history=False).run()
else:
    from qtui.cli.main import main

    main([])
"""

ARMS = ("bare", "qtui", "app")


def one(kind: str, env: dict[str, str]) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind], capture_output=True, text=True, env=env, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("{"))
    data = json.loads(line)
    return {
        "s": data["t"] - t0,
        "cpu": data["cpu"],
        "rss": data["rss"] / 1e6,
        "heavy": data["heavy"],
        "modules": data["modules"],
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    env = dict(os.environ)
    scratch = tempfile.mkdtemp(prefix="qtui-bench-")
    for var in ("QTUI_CONFIG_DIR", "QTUI_DATA_DIR", "QTUI_CACHE_DIR"):
        env.setdefault(var, os.path.join(scratch, var.lower()))
    env["QTUI_NO_HISTORY"] = "1"
    # Bytecode as an installed qtui has it: with PYTHONDONTWRITEBYTECODE set (as in some
    # shells), every module edited since its .pyc was written compiles again in each child.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")  # filled by the warm-up
    results: dict[str, list[dict[str, float]]] = {k: [] for k in ARMS}
    before = load()
    for kind in ARMS:
        one(kind, env)  # warm the OS file cache, and compile the bytecode
    for i in range(args.repeats):
        for kind in ARMS[i % len(ARMS):] + ARMS[: i % len(ARMS)]:  # rotated: no arm always first
            results[kind].append(one(kind, env))
    after = load()
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("s", "cpu", "rss", "modules")}
           for k, v in results.items()}
    for kind in ARMS:
        times = ", ".join(f"{r['s']:.2f}" for r in results[kind])
        m = med[kind]
        print(
            f"{kind:>5}: first frame median {m['s']:.3f} s, CPU {m['cpu']:.3f} s  (runs: {times})  "
            f"RSS {m['rss']:.0f} MB  modules {m['modules']:.0f}"
        )
    for kind in ("qtui", "app"):
        wall = med[kind]["s"] / med["bare"]["s"]
        cpu = med[kind]["cpu"] / med["bare"]["cpu"]
        print(
            f"ratio {kind}/bare: wall {wall:.2f}x  CPU {cpu:.2f}x   target <= {TARGET}x "
            f"({'met' if wall <= TARGET else 'MISSED'} by wall time)"
        )
    heavy = {m for kind in ("qtui", "app") for r in results[kind] for m in r["heavy"]}
    print(f"torch/pennylane/numpy imported by the UI: {sorted(heavy) or 'no'}")
    print(f"load average before {before}, after {after} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
