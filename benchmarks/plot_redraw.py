"""How long the loss plot takes to redraw a long history.

Builds every strip of ``LineGraph`` (what a repaint needs) for 100,000 points
and, as the same-run baseline, for 1,000 points, at 160x40 and 80x20 cells.
"Cold" is the first redraw of a new series (the block index is built);
"warm" is a redraw after 100 more points arrived, which is what a live
session does at every tick.  Target: < 20 ms for 100k points.

    python benchmarks/plot_redraw.py
"""

from __future__ import annotations

import math
import random
import statistics
import time

from qtui.ui.widgets.graph import LineGraph, Series


def history(n: int) -> list[float]:
    rnd = random.Random(0)
    return [0.5 * math.exp(-i / (n / 4)) + 0.1 * rnd.random() for i in range(n)]


def measure(n: int, width: int, height: int, repeats: int = 30) -> tuple[float, float]:
    values = history(n)
    graph = LineGraph()
    graph.series = [Series("run", values, "#4EA1FF"), Series("run2", values[::2], "#FFB454")]
    t = time.perf_counter()
    graph.build_strips(width, height)
    cold = (time.perf_counter() - t) * 1000
    warm = []
    for _ in range(repeats):
        values.extend(values[-100:])
        t = time.perf_counter()
        graph.build_strips(width, height)
        warm.append((time.perf_counter() - t) * 1000)
    return cold, statistics.median(warm)


def main() -> None:
    LineGraph().build_strips(10, 5)  # warm imports (rich, textual strips)
    print(f"{'points':>8} {'size':>7} {'cold ms':>8} {'warm ms':>8}")
    results = {}
    for n in (1_000, 100_000):
        for w, h in ((160, 40), (80, 20)):
            cold, warm = measure(n, w, h)
            results[(n, w)] = warm
            print(f"{n:>8} {w:>3}x{h:<3} {cold:8.2f} {warm:8.2f}")
    for w in (160, 80):
        ratio = results[(100_000, w)] / results[(1_000, w)]
        print(
            f"{w} cols: 100k points redraw in {results[(100_000, w)]:.2f} ms, "
            f"{ratio:.2f}x the 1k-point baseline (target < 20 ms)"
        )


if __name__ == "__main__":
    main()
