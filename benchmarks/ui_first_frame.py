"""Time from process start to the first frame: qtui's app against a bare Textual app.

Each measurement is a fresh ``python`` process (imports included, as a user
sees it), run headless; the child reports the wall-clock time at which the app
first wrote a screen to the terminal (``App._display``) and its RSS then.  Both apps are measured
alternately in the same run, so machine load affects both alike.
Target: qtui's first frame within 1.0 s.

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

CHILD = r"""
import json, sys, time
import psutil
import textual.app as textual_app

# The first frame is the first time the app writes a screen to the terminal
# (App._display).  A callback scheduled with call_after_refresh before run()
# fires only after the deferred (Lazy) panes have mounted too, so it measures
# more than the first paint; both apps are measured the same way here.
_display = textual_app.App._display
_seen = []

def _first_display(self, screen, renderable):
    if not _seen:
        _seen.append(time.time())
        rss = psutil.Process().memory_info().rss
        heavy = [m for m in ("torch", "pennylane") if m in sys.modules]
        print(json.dumps({"t": _seen[0], "rss": rss, "heavy": heavy}), flush=True)
        self.call_later(self.exit)
    return _display(self, screen, renderable)

textual_app.App._display = _first_display
kind = sys.argv[1]
if kind == "bare":
    from textual.widgets import Footer, Static

    class Bare(textual_app.App):
        def compose(self):
            yield Static("hello")
            yield Footer()

    app = Bare()
else:
    from qtui.ui.app import QtuiApp

    app = QtuiApp(record_history=False)

app.run(headless=True, size=(80, 24))
"""

def one(kind: str, env: dict[str, str]) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind], capture_output=True, text=True, env=env, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("{"))
    data = json.loads(line)
    return {"s": data["t"] - t0, "rss": data["rss"] / 1e6, "heavy": data["heavy"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("QTUI_CONFIG_DIR", tempfile.mkdtemp(prefix="qtui-bench-"))
    results: dict[str, list[dict[str, float]]] = {"bare": [], "qtui": []}
    one("bare", env)  # warm the OS file cache for both
    one("qtui", env)
    for _ in range(args.repeats):
        for kind in ("bare", "qtui"):
            results[kind].append(one(kind, env))
    med = {k: statistics.median(r["s"] for r in v) for k, v in results.items()}
    rss = {k: statistics.median(r["rss"] for r in v) for k, v in results.items()}
    for kind in ("bare", "qtui"):
        times = ", ".join(f"{r['s']:.2f}" for r in results[kind])
        print(
            f"{kind:>5}: first frame median {med[kind]:.3f} s  (runs: {times})  "
            f"RSS {rss[kind]:.0f} MB"
        )
    heavy = {m for r in results["qtui"] for m in r["heavy"]}
    print(
        f"ratio qtui/bare: {med['qtui'] / med['bare']:.2f}x   target: qtui <= 1.0 s "
        f"({'met' if med['qtui'] <= 1.0 else 'MISSED'})"
    )
    print(f"torch/pennylane imported by the UI: {sorted(heavy) or 'no'}")


if __name__ == "__main__":
    main()
