"""The loss chart's x axis (issue 10, item 0): every series on one shared axis.

A run at batch 100 of 1000 must cover a tenth of the plot, not be stretched
across it under a ``0 … 1000 batches`` axis.
"""

from __future__ import annotations

from qtui.ui.widgets.graph import LineGraph, Series


def _columns(graph: LineGraph, color: str, width: int = 87, height: int = 12) -> list[int]:
    """The cell columns (within the plot) where ``color``'s series drew a dot."""
    cols: set[int] = set()
    for strip in graph.build_strips(width, height)[:-1]:
        x = 0
        for seg in strip:
            if seg.style is not None and seg.style.color is not None and seg.style.color.name == color:
                cols.update(x + i for i, ch in enumerate(seg.text) if ch != " ")
            x += len(seg.text)
    return sorted(c - LineGraph.GUTTER for c in cols)


def test_a_shorter_series_covers_its_share_of_the_shared_axis() -> None:
    graph = LineGraph(x_label="batches")
    finished = [1.0 - i / 1000 for i in range(1000)]
    running = [1.0 - i / 200 for i in range(100)]
    graph.set_series([Series("done", finished, "red"), Series("live", running, "blue")])
    plot_w = 87 - LineGraph.GUTTER
    red, blue = _columns(graph, "red"), _columns(graph, "blue")
    assert max(red) >= plot_w - 2  # the longest series reaches the right edge
    assert max(blue) <= plot_w * 0.1 + 1, f"100 of 1000 batches drawn out to column {max(blue)}"
    axis = "".join(seg.text for seg in graph.build_strips(87, 12)[-1])
    assert axis.rstrip().endswith("1000 batches")


def test_few_points_are_placed_by_index_over_the_longest_series() -> None:
    graph = LineGraph()
    graph.set_series([Series("a", [3.0, 2.0, 1.0, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.0], "red"),
                      Series("b", [3.0, 1.0], "blue")])
    plot_w = 87 - LineGraph.GUTTER
    blue = _columns(graph, "blue")
    # 2 of 10 points: index 1 sits at 1/9 of the width
    assert max(blue) <= plot_w / 9 + 1
