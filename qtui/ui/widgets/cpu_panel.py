"""Per-core CPU load of the whole node, fixed 0–100 %, readable from 2 to 256 cores.

Fixed scale on purpose: an auto-scaled bar would make an idle core look busy.
The panel picks the densest layout the cores need (issue 10, items 16, 17):

* **bars**: a labelled bar, the percentage and a sparkline of the core's last
  samples per core, in as many columns as fit; a header names both parts.
* **heat**: one cell per core, its shade the load (`·▁▂▃▄▅▆▇█`), 8 to 64 cores a
  row with the first core's number in front, as btop's compact grid does: a
  64-core node at 80×24.
* **dense**: two cores per cell (braille: each dot column a core, 0–4 dots),
  for 128–256 cores in the small box of an 80×24 terminal.

For a cluster run (``--executor slurm``) the samples come from its compute
node, so the box's title names that node (``CPU per core (node12, 0–100 %)``).

When no run is active the figures are the last sample's: the header says the
run ended and the bars are drawn dim, so a finished run (``qtui watch``) no
longer looks like a busy node.

Drawing costs one pass over the cores with runs of equal style merged, so 256
cores redraw in well under a millisecond (``benchmarks/ui_lag_cores.py``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from qtui.ui.panel import LivePanel
from qtui.ui.state import CPU_HISTORY, LiveState

SPARK = " ▁▂▃▄▅▆▇█"
CPU_TITLE = "CPU per core (node, 0–100 %)"
HEAT = "·▁▂▃▄▅▆▇█"
#: Braille dots of the left and right dot column, bottom dot first.
_LEFT = (0x40, 0x04, 0x02, 0x01)
_RIGHT = (0x80, 0x20, 0x10, 0x08)
BAR_COL = 14  # narrowest column of the bars layout: "12 ███░ 100% ▂▃"


def spark(values: Sequence[float], width: int) -> str:
    """A 0–100 sparkline of the last ``width`` values (space = idle)."""
    tail = list(values)[-width:]
    chars = [SPARK[min(8, max(0, round(v / 100 * 8)))] for v in tail]
    return "".join(chars).rjust(width)


def level_style(v: float, stale: bool = False) -> str:
    if stale:
        return "dim"
    return "bold red" if v >= 90 else ("yellow" if v >= 50 else "green")


def braille_pair(a: float, b: float | None) -> str:
    """Two cores in one cell: each a column of 0–4 dots from the bottom."""
    bits = 0
    for col, v in ((_LEFT, a), (_RIGHT, b)):
        if v is None:
            continue
        for k in range(min(4, max(0, round(v / 100 * 4)))):
            bits |= col[k]
    return chr(0x2800 + bits)


#: Above this many cores the heat grid is used even where bars would fit: 64
#: labelled bars with sparklines kept UI lag p99 at 23 ms at 200×50 against
#: 13–15 ms for the heat grid (benchmarks/ui_lag_cores.py).
MAX_BAR_CORES = 32


def choose_layout(n: int, width: int, rows: int) -> tuple[str, int, bool]:
    """(``bars``|``heat``|``dense``, cores per row, header shown) for ``n`` cores in
    ``width`` × ``rows`` cells.  The header line goes first when room runs out."""
    label = len(str(n - 1)) + 1
    cells = max(1, width - label)
    for header in (True, False):
        body = max(1, rows - 1 if header else rows)
        ncols = -(-n // body)  # the fewest columns that hold every core: the widest bars
        if header and n <= MAX_BAR_CORES and ncols <= max(1, width // BAR_COL):
            return "bars", ncols, True
        for per in (64, 32, 16, 8):  # round numbers of cores a row read best
            if per <= cells and -(-n // per) <= body:
                return "heat", per, header
        if n <= cells * body:
            return "heat", -(-n // body), header
        if n <= 2 * cells * body:
            return "dense", 2 * -(-n // (2 * body)), header
    return "dense", 2 * cells, False


def _stale(state: LiveState) -> bool:
    """The figures are the last sample's: no run is running any more."""
    return bool(state.percpu) and not any(r.state == "running" for r in state.runs())


class CpuPanel(LivePanel, Widget):
    """Draws the state's ``percpu`` and ``cpu_history``."""

    watches = ("cpu", "style")  # and whether a run still runs: ``version``
    slot = 1

    DEFAULT_CSS = """
    CpuPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.percpu: list[float] = []
        self.history: list[deque[float]] = []
        self.node_summary = ""
        self.stale = False
        self.sample_t: float | None = None
        self.layout_used = ""

    def version(self, state: LiveState) -> tuple[int, int, bool, str | None]:
        """A sample, a theme, the run's end (the bars go dim) or the node in focus: not
        every batch (each bumps ``runs``), which changes none of what the panel shows."""
        return (state.versions.cpu, state.versions.style, _stale(state), state.cpu_node())

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(state.percpu, state.cpu_history, stale=_stale(state), sample_t=state.cpu_t)
        self.name_node(state.cpu_node())

    def name_node(self, node: str | None) -> None:
        """Title the box with the cluster node the figures come from (None: this machine)."""
        target = self.parent if isinstance(self.parent, Widget) else self
        title = f"CPU per core ({node}, 0–100 %)" if node else CPU_TITLE
        if target.border_title != title and (node or target.border_title):
            target.border_title = title

    def update_data(
        self,
        percpu: list[float],
        history: list[deque[float]],
        *,
        stale: bool = False,
        sample_t: float | None = None,
    ) -> None:
        self.percpu = percpu
        self.history = history
        self.stale = stale
        self.sample_t = sample_t
        n = len(percpu)
        self.node_summary = f"node {sum(percpu) / n:.0f}% of {n} cores" if n else ""
        if n and stale:
            self.node_summary += " · last sample"
        # shown on the bordered box around the bars (the app's #cpu-box) or on itself
        target = self.parent if isinstance(self.parent, Widget) else self
        target.border_subtitle = self.node_summary
        self.refresh()

    # drawing ------------------------------------------------------------------
    def render(self) -> Text:
        n = len(self.percpu)
        if n == 0:
            return Text("waiting for the first sample…", style="dim")
        width = max(1, self.content_size.width)
        height = max(1, self.content_size.height)
        kind, per, header = choose_layout(n, width, height)
        self.layout_used = kind
        text = Text(no_wrap=True, overflow="crop")
        if header:
            text.append_text(self._header(kind, per, width))
            text.append("\n")
        if kind == "bars":
            self._bars(text, per, width)
        else:
            self._heat(text, per, kind == "dense")
        return text

    def _header(self, kind: str, per: int, width: int) -> Text:
        if self.stale:
            when = time.strftime("%H:%M:%S", time.localtime(self.sample_t)) if self.sample_t else "?"
            return Text(f"run ended: last sample {when}"[:width], style="bold")
        if kind == "bars":
            col_w = max(BAR_COL, width // per)
            label_w, bar_w, hist_w = self._bar_widths(col_w)
            head = " " * label_w + "now".ljust(bar_w + 5)
            if hist_w:
                words = next(
                    (w for w in (f"last {CPU_HISTORY} samples", f"last {CPU_HISTORY}")
                     if len(w) <= hist_w),
                    "last",
                )
                head += " " + words
            return Text(head[:width], style="dim")
        scale = f"{HEAT[0]}0 {HEAT[4]}50 {HEAT[8]}100 %"
        what = "2 cores a cell" if kind == "dense" else "a cell per core"
        return Text(f"{what} · {scale}"[:width], style="dim")

    def _bar_widths(self, col_w: int) -> tuple[int, int, int]:
        label_w = len(str(len(self.percpu) - 1)) + 1
        free = col_w - label_w - 6  # "100%" and the spaces around it
        bar_w = max(3, free // 2)
        hist_w = max(0, free - bar_w - 1)
        return label_w, bar_w, hist_w

    def _bars(self, text: Text, ncols: int, width: int) -> None:
        n = len(self.percpu)
        col_w = max(BAR_COL, width // ncols)
        rows = -(-n // ncols)
        label_w, bar_w, hist_w = self._bar_widths(col_w)
        for r in range(rows):
            for c in range(ncols):
                i = c * rows + r
                if i >= n:
                    break
                v = self.percpu[i]
                filled = round(v / 100 * bar_w)
                style = level_style(v, self.stale)
                text.append(f"{i:>{label_w - 1}} ", style="dim")
                text.append("█" * filled, style=style)
                text.append("░" * (bar_w - filled), style="dim")
                text.append(f"{v:4.0f}%", style="dim" if self.stale else "")
                used = label_w + bar_w + 5
                if hist_w > 0 and i < len(self.history):
                    text.append(" " + spark(self.history[i], hist_w), style=style)
                    used += hist_w + 1
                text.append(" " * max(1, col_w - used))
            if r < rows - 1:
                text.append("\n")

    def _heat(self, text: Text, per: int, dense: bool) -> None:
        n = len(self.percpu)
        label_w = len(str(n - 1)) + 1
        for start in range(0, n, per):
            text.append(f"{start:>{label_w - 1}} ", style="dim")
            chunk = self.percpu[start : start + per]
            step = 2 if dense else 1
            run_style, run = "", list[str]()
            for j in range(0, len(chunk), step):
                a = chunk[j]
                if dense:
                    b = chunk[j + 1] if j + 1 < len(chunk) else None
                    ch = braille_pair(a, b)
                    v = max(a, b or 0.0)
                else:
                    ch = HEAT[min(8, max(0, round(a / 100 * 8)))]
                    v = a
                style = level_style(v, self.stale)
                if style != run_style and run:
                    text.append("".join(run), style=run_style)
                    run = []
                run_style = style
                run.append(ch)
            if run:
                text.append("".join(run), style=run_style)
            if start + per < n:
                text.append("\n")
