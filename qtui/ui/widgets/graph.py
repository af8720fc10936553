"""A small multi-series braille line graph drawn with ``render_line``.

Why not textual-plotext: it pulls in plotext, re-lays out the whole figure on
every update and has no downsampling, so a long loss history gets slower the
longer a session runs.  This widget, like memray's ``MemoryGraph``, owns its
rendering: each series is reduced to one min/max pair per braille dot column
(2 per cell) before anything is drawn, so the cost of a redraw depends on the
widget's size, not the number of points.  100,000 points redraw in a few
milliseconds (``benchmarks/plot_redraw.py``).

Strips are built once per data or size change and cached; ``render_line`` only
returns them.  Redraw rate is bounded by the caller (the app applies events on
a timer), not here.

With ``x_ticks`` set the x axis is categorical (a sweep's 2, 4, 8, 12 qubits):
every series has one value per tick, NaN where a point is missing (the line
breaks there), and the ticks are written under their columns.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from textual._context import NoActiveAppError
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from qtui.core import units

# Braille dot bits, indexed [dx][dy] within a 2x4 cell.
_DOT = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BRAILLE = 0x2800
# _RANGE[dx][a][b]: the bits of dots a..b (inclusive) in dot column dx of a cell
_RANGE = tuple(
    tuple(
        tuple(sum(_DOT[dx][d] for d in range(a, b + 1)) if b >= a else 0 for b in range(4))
        for a in range(4)
    )
    for dx in range(2)
)


@dataclass
class Series:
    """One line: its values in x order, a colour and a legend name.  ``dashed``: drawn in
    every other cell, for what was not measured (a prediction); ``band``: per x, a
    (low, high) interval drawn as a dotted bar (NaN where there is none)."""

    name: str
    values: Sequence[float]
    color: str = "white"
    dashed: bool = False
    band: Sequence[tuple[float, float]] = ()


def downsample(values: Sequence[float], columns: int) -> list[tuple[float, float]]:
    """One (min, max) per column; at most ``columns`` pairs whatever ``len(values)``.

    Each bucket is a slice, and ``min``/``max`` run in C, so this is linear in
    the number of points with a small constant.
    """
    n = len(values)
    if n == 0 or columns <= 0:
        return []
    if n <= columns:
        return [(float(v), float(v)) for v in values]
    out: list[tuple[float, float]] = []
    step = n / columns
    for c in range(columns):
        a = int(c * step)
        b = max(a + 1, int((c + 1) * step))
        chunk = values[a:b]
        out.append((float(min(chunk)), float(max(chunk))))
    return out


class BlockIndex:
    """Min/max of each full block of ``BLOCK`` points of an append-only series.

    Loss and memory histories only grow, so the blocks computed once stay
    valid; a redraw of a long history then reduces a few hundred block pairs
    instead of slicing every point again.
    """

    BLOCK = 32

    def __init__(self) -> None:
        self.pairs: list[tuple[float, float]] = []
        self.first: float | None = None

    def update(self, values: Sequence[float]) -> list[tuple[float, float]]:
        n_full = len(values) // self.BLOCK
        if (
            not values
            or (self.first is not None and values[0] != self.first)
            or n_full < len(self.pairs)
        ):
            self.pairs = []  # not the series we indexed: start again
        self.first = values[0] if values else None
        for b in range(len(self.pairs), n_full):
            chunk = values[b * self.BLOCK : (b + 1) * self.BLOCK]
            self.pairs.append((float(min(chunk)), float(max(chunk))))
        return self.pairs


def downsample_indexed(
    values: Sequence[float], columns: int, index: BlockIndex
) -> list[tuple[float, float]]:
    """Like ``downsample`` but reads whole blocks from ``index`` when buckets are large."""
    n = len(values)
    if n < columns * BlockIndex.BLOCK * 2:
        return downsample(values, columns)
    blocks = index.update(values)
    tail_start = len(blocks) * BlockIndex.BLOCK
    tail = values[tail_start:]
    if tail:
        blocks = blocks + [(float(min(tail)), float(max(tail)))]
    out: list[tuple[float, float]] = []
    step = len(blocks) / columns
    for c in range(columns):
        a = int(c * step)
        b = max(a + 1, int((c + 1) * step))
        chunk = blocks[a:b]
        out.append((min(p[0] for p in chunk), max(p[1] for p in chunk)))
    return out


class LineGraph(Widget):
    """Overlaid series on shared axes; y labels on the left, x extent below."""

    DEFAULT_CSS = """
    LineGraph {
        height: 1fr;
        min-height: 3;
    }
    """

    GUTTER = 7

    def __init__(
        self,
        *,
        y_floor: float | None = None,
        y_ceiling: float | None = None,
        x_label: str = "",
        value_format: type[str] | None = None,
        x_ticks: list[str] | None = None,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.series: list[Series] = []
        self.y_floor = y_floor
        self.y_ceiling = y_ceiling
        self.x_label = x_label
        self.x_ticks = x_ticks
        self.empty_text = "no data yet"
        self._cache: list[Strip] | None = None
        self._cache_size: Size | None = None
        self.formatter = units.axis_value
        self._indexes: dict[str, BlockIndex] = {}

    # data -------------------------------------------------------------------
    def set_series(self, series: list[Series]) -> None:
        """Replace the data and build the strips now, while the app folds the data: the
        paint then only composes them, two shorter turns of the event loop than one
        long one.  Only the lines that changed are painted again: a flat memory curve
        moves 2-7 lines of 18, and the composing costs per line (~5 ms for the whole
        loss chart at 200×50).  Not yet laid out: built at the first paint."""
        self.series = series
        size = self.content_region.size if self.is_mounted else Size(0, 0)
        old = self._cache if self._cache_size == size else None
        if not size.area:
            self._cache = None
            self.refresh()
            return
        self._cache = self.build_strips(size.width, size.height)
        self._cache_size = size
        if old is None or len(old) != len(self._cache):
            self.refresh()
            return
        changed = [y for y, (was, now) in enumerate(zip(old, self._cache, strict=True)) if was != now]
        if len(changed) * 2 > len(self._cache):
            self.refresh()
        elif changed:
            self.refresh(*(Region(0, y, size.width, 1) for y in changed))

    def on_resize(self) -> None:
        self._cache = None

    # rendering --------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        size = self.content_region.size if self.is_mounted else self.size
        if self._cache is None or self._cache_size != size:
            self._cache = self.build_strips(size.width, size.height)
            self._cache_size = size
        if 0 <= y < len(self._cache):
            return self._cache[y]
        return Strip.blank(size.width)

    def _styles(self) -> tuple[Style, Style]:
        base = self.rich_style
        try:
            muted = Style(color=self.app.current_theme.foreground, dim=True)
        except NoActiveAppError:  # not mounted (benchmarks)
            muted = Style(dim=True)
        return base, muted

    def build_strips(self, width: int, height: int) -> list[Strip]:
        """Everything the widget shows, as ``height`` strips of ``width`` cells."""
        base, muted = self._styles()
        if width <= 0 or height <= 0:
            return []
        series = [s for s in self.series if len(s.values)]
        if not series or width <= self.GUTTER + 2 or height < 2:
            msg = self.empty_text if not series else ""
            # wrapped, not cut: the whole sentence reads in a narrow panel too
            wrapped = textwrap.wrap(msg, width, break_on_hyphens=False)[:height] or [""]
            lines = [Strip([Segment(line.ljust(width), muted)]) for line in wrapped]
            return lines + [Strip.blank(width, base) for _ in range(height - len(lines))]
        plot_w = width - self.GUTTER
        plot_h = height - 1
        cols = plot_w * 2
        rows = plot_h * 4

        # One x axis for every series (issue 10, item 0): a series of n points
        # takes n / n_max of the width, so a run at batch 100 of 1000 covers a
        # tenth of the plot, not all of it.  Categorical axes have equal lengths.
        n_max = max(len(s.values) for s in series)
        reduced = [
            downsample_indexed(
                s.values,
                cols if n_max <= cols else max(1, round(cols * len(s.values) / n_max)),
                self._indexes.setdefault(s.name, BlockIndex()),
            )
            for s in series
        ]
        span = min(n_max, cols)  # x positions: index i of span points over the width
        finite = [p for r in reduced for p in r if p[0] == p[0] and p[1] == p[1]]  # no NaN
        finite += [p for s in series for p in s.band if p[0] == p[0] and p[1] == p[1]]
        lo = min((p[0] for p in finite), default=0.0)
        hi = max((p[1] for p in finite), default=1.0)
        if self.y_floor is not None:
            lo = min(lo, self.y_floor) if lo < self.y_floor else self.y_floor
        if self.y_ceiling is not None:
            hi = max(hi, self.y_ceiling)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            lo, hi = 0.0, 1.0
        if hi - lo < 1e-12:
            pad = abs(hi) * 0.05 or 1.0
            lo, hi = lo - pad, hi + pad
        scale = (rows - 1) / (hi - lo)

        # cell bits and the series index that last touched each cell
        bits = [0] * (plot_w * plot_h)
        owner = [-1] * (plot_w * plot_h)
        for si, pairs in enumerate(reduced):
            s = series[si]
            if s.dashed or s.band:  # drawn apart, then every other cell of it kept
                own, scratch = [0] * len(bits), [-1] * len(bits)
                self._draw(pairs, cols, rows, lo, scale, plot_w, own, scratch, si, span)
                self._dash(own, plot_w, by_row=False)
                bar = [0] * len(bits)
                for i, (b_lo, b_hi) in enumerate(s.band):
                    if b_lo == b_lo and b_hi == b_hi and n_max > 1:
                        x = round(i * (cols - 1) / (n_max - 1))
                        y0 = rows - 1 - int(round((b_hi - lo) * scale))
                        y1 = rows - 1 - int(round((b_lo - lo) * scale))
                        self._span(x, y0, y1, plot_w, bar, scratch, si)
                self._dash(bar, plot_w, by_row=True)
                for k, b in enumerate(own):
                    if b or bar[k]:
                        bits[k] |= b | bar[k]
                        owner[k] = si
                continue
            self._draw(pairs, cols, rows, lo, scale, plot_w, bits, owner, si, span)
            if self.x_ticks:
                self._mark_points(pairs, cols, rows, lo, scale, plot_w, bits, owner, si)

        styles = [Style(color=s.color) for s in series]
        strips: list[Strip] = []
        top, bottom = self.formatter(hi), self.formatter(lo)
        mid = self.formatter((hi + lo) / 2)
        for row in range(plot_h):
            if row == 0:
                label = top
            elif row == plot_h - 1:
                label = bottom
            elif row == plot_h // 2 and plot_h >= 5:
                label = mid
            else:
                label = ""
            segs = [Segment(label.rjust(self.GUTTER - 1)[: self.GUTTER - 1] + "┤", muted)]
            base_i = row * plot_w
            row_bits = bits[base_i : base_i + plot_w]
            row_owner = owner[base_i : base_i + plot_w]
            chars = [chr(_BRAILLE + b) if b else " " for b in row_bits]
            x = 0
            for o, group in groupby(row_owner):
                n = len(list(group))
                segs.append(Segment("".join(chars[x : x + n]), styles[o] if o >= 0 else base))
                x += n
            strips.append(Strip(segs, width))
        if self.x_ticks:
            strips.append(self._tick_axis(width, cols, muted))
            return strips
        left = "0"
        right = f"{n_max} {self.x_label}".strip()
        axis = " " * (self.GUTTER - 1) + "└" + left
        fill = max(1, width - len(axis) - len(right) - 1)
        strips.append(
            Strip([Segment(axis + "─" * fill + " " + right, muted)], width).crop(0, width)
        )
        return strips

    def _tick_axis(self, width: int, cols: int, style: Style) -> Strip:
        """The bottom line of a categorical graph: each tick under its column."""
        ticks = self.x_ticks or []
        line = [" "] * (self.GUTTER - 1) + ["└"] + ["─"] * max(0, width - self.GUTTER)
        free_from = self.GUTTER  # ticks must not overlap: each starts after the last
        n = len(ticks)
        for i, tick in enumerate(ticks):
            dot_x = round(i * (cols - 1) / (n - 1)) if n > 1 else 0
            cell = self.GUTTER + dot_x // 2
            start = max(free_from, min(cell - len(tick) // 2, width - len(tick)))
            if start + len(tick) > width:
                break
            line[start : start + len(tick)] = list(tick)
            free_from = start + len(tick) + 1
        label = f" {self.x_label}" if self.x_label else ""
        if label and free_from + len(label) <= width:
            line[width - len(label) : width] = list(label)
        return Strip([Segment("".join(line[:width]), style)], width)

    @staticmethod
    def _mark_points(
        pairs: list[tuple[float, float]],
        cols: int,
        rows: int,
        lo: float,
        scale: float,
        plot_w: int,
        bits: list[int],
        owner: list[int],
        si: int,
    ) -> None:
        """A 2-dot-wide mark on each measured point, so single points stay visible."""
        n = len(pairs)
        for i, (vmin, _) in enumerate(pairs):
            if vmin != vmin:
                continue
            x = round(i * (cols - 1) / (n - 1)) if n > 1 else 0
            y = rows - 1 - int(round((vmin - lo) * scale))
            for dx in (x - 1, x, x + 1):
                if 0 <= dx < cols:
                    LineGraph._span(dx, max(0, y - 1), min(rows - 1, y + 1), plot_w, bits, owner, si)

    @staticmethod
    def _draw(
        pairs: list[tuple[float, float]],
        cols: int,
        rows: int,
        lo: float,
        scale: float,
        plot_w: int,
        bits: list[int],
        owner: list[int],
        si: int,
        span: int = 0,
    ) -> None:
        """``span``: how many x positions the longest series has (the shared axis)."""
        n = len(pairs)
        if n == 0:
            return
        span = max(span, n)
        # x dot column of each pair: spread over the full width when few points
        if span == 1:
            xs = [0]
        elif span < cols:
            xs = [round(i * (cols - 1) / (span - 1)) for i in range(n)]
        else:
            xs = list(range(n))
        prev_y: int | None = None
        prev_x = 0
        for (vmin, vmax), x in zip(pairs, xs, strict=False):
            if vmin != vmin or vmax != vmax:  # NaN: a missing point breaks the line
                prev_y = None
                continue
            y_lo = rows - 1 - int(round((vmin - lo) * scale))
            y_hi = rows - 1 - int(round((vmax - lo) * scale))
            mid = (y_lo + y_hi) // 2
            if prev_y is not None and x - prev_x > 1:
                # sparse points: walk the straight line across the gap
                span = x - prev_x
                start = prev_y
                for k in range(1, span):
                    yy = start + (mid - start) * k // span
                    LineGraph._span(
                        prev_x + k, min(yy, prev_y), max(yy, prev_y), plot_w, bits, owner, si
                    )
                    prev_y = yy
            top, bot = min(y_hi, y_lo), max(y_hi, y_lo)
            if prev_y is not None:
                top, bot = min(top, prev_y), max(bot, prev_y)
            LineGraph._span(x, top, bot, plot_w, bits, owner, si)
            prev_y = mid if y_lo != y_hi else y_lo
            prev_x = x

    @staticmethod
    def _dash(cells: list[int], plot_w: int, *, by_row: bool) -> None:
        """Blank every other cell (along the row, or down the column for a bar)."""
        for k in range(len(cells)):
            row, col = divmod(k, plot_w)
            if (row if by_row else col) % 2:
                cells[k] = 0

    @staticmethod
    def _span(
        x: int, top: int, bot: int, plot_w: int, bits: list[int], owner: list[int], si: int
    ) -> None:
        """Set dots in dot-column ``x`` from dot-row ``top`` to ``bot`` inclusive.

        Whole cells in the middle of a span get one precomputed mask, so a tall
        span (noisy data) costs one operation per cell, not per dot.
        """
        cx, dx = divmod(x, 2)
        if cx >= plot_w:
            return
        n_rows = len(bits) // plot_w
        top = max(0, top)
        bot = min(bot, n_rows * 4 - 1)
        if bot < top:
            return
        cy0, dy0 = divmod(top, 4)
        cy1, dy1 = divmod(bot, 4)
        ranges = _RANGE[dx]
        if cy0 == cy1:
            idx = cy0 * plot_w + cx
            bits[idx] |= ranges[dy0][dy1]
            owner[idx] = si
            return
        idx = cy0 * plot_w + cx
        bits[idx] |= ranges[dy0][3]
        owner[idx] = si
        full = ranges[0][3]
        for cy in range(cy0 + 1, cy1):
            idx = cy * plot_w + cx
            bits[idx] |= full
            owner[idx] = si
        idx = cy1 * plot_w + cx
        bits[idx] |= ranges[0][dy1]
        owner[idx] = si
