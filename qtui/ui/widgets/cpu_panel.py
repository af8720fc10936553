"""Per-core CPU bars for the whole node, each with a short history, fixed 0–100 %.

Fixed scale on purpose: an auto-scaled bar would make an idle core look busy.
Many cores are laid out in as many columns as the panel's width allows, so a
64-core node still fits an 80×24 terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from qtui.ui.panel import LivePanel
from qtui.ui.state import LiveState

SPARK = " ▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], width: int) -> str:
    """A 0–100 sparkline of the last ``width`` values (space = idle)."""
    tail = list(values)[-width:]
    chars = [SPARK[min(8, max(0, round(v / 100 * 8)))] for v in tail]
    return "".join(chars).rjust(width)


class CpuPanel(LivePanel, Widget):
    """Draws the state's ``percpu`` and ``cpu_history``."""

    watches = ("cpu",)

    DEFAULT_CSS = """
    CpuPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.percpu: list[float] = []
        self.history: list[deque[float]] = []
        self.node_summary = ""

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(state.percpu, state.cpu_history)

    def update_data(self, percpu: list[float], history: list[deque[float]]) -> None:
        self.percpu = percpu
        self.history = history
        n = len(percpu)
        self.node_summary = f"node {sum(percpu) / n:.0f}% of {n} cores" if n else ""
        # shown on the bordered box around the bars (the app's #cpu-box) or on itself
        target = self.parent if isinstance(self.parent, Widget) else self
        target.border_subtitle = self.node_summary
        self.refresh()

    def render(self) -> Text:
        n = len(self.percpu)
        if n == 0:
            return Text("waiting for the first sample…", style="dim")
        width, height = self.content_size.width, max(1, self.content_size.height)
        ncols = max(1, -(-n // height))  # ceil: enough columns to fit every core
        col_w = max(14, width // ncols)
        while ncols > 1 and col_w * ncols > width:
            ncols -= 1
        rows = -(-n // ncols)
        label_w = len(str(n - 1)) + 1
        # label, bar, "100%", history: give the bar and history what is left
        free = col_w - label_w - 6
        bar_w = max(3, free // 2)
        hist_w = max(0, free - bar_w - 1)
        text = Text(no_wrap=True, overflow="crop")
        for r in range(rows):
            for c in range(ncols):
                i = c * rows + r
                if i >= n:
                    break
                v = self.percpu[i]
                filled = round(v / 100 * bar_w)
                style = "bold red" if v >= 90 else ("yellow" if v >= 50 else "green")
                text.append(f"{i:>{label_w - 1}} ", style="dim")
                text.append("█" * filled, style=style)
                text.append("░" * (bar_w - filled), style="dim")
                text.append(f"{v:4.0f}%")
                if hist_w > 0 and i < len(self.history):
                    text.append(" " + spark(self.history[i], hist_w), style=style)
                text.append(
                    " " * max(1, col_w - label_w - bar_w - 5 - (hist_w + 1 if hist_w else 0))
                )
            if r < rows - 1:
                text.append("\n")
        return text
