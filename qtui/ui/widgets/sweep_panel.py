"""A sweep's answer: time and core-seconds per step against the swept variable.

Reads the summary's ``sweep`` section (``qtui.core.sweep.analyse``): per swept axis,
``series`` {line label: [points]} and ``crossovers`` in words.  Two braille
graphs side by side (wall time per step, core-seconds per step), one line per
combination in the theme's series colours, the x axis labelled with the swept
values; a legend that names each line (so the lines read with ``NO_COLOR``),
and the crossover sentences below.  A log scale is used when the values span
more than a factor of 10 (per-step time grows exponentially with qubits).
``x`` cycles the axis when more than one was swept.  Along the qubits, the
cost models' predictions at the largest measured size + 2 and + 4 follow the
crossovers, marked as not measured (``qtui.analysis.predictions``, computed in
a worker thread: the bootstrap takes a second or two).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from qtui.analysis import predictions
from qtui.core import units
from qtui.core.summary_schema import Prediction, SweepAxis
from qtui.core.sweep import AXES
from qtui.ui.form_words import in_form_words
from qtui.ui.panel import LivePanel, packed_legend
from qtui.ui.state import LiveState
from qtui.ui.widgets.graph import LineGraph, Series

EMPTY = (
    "No sweep in this session yet.\n\n"
    "On the Setup tab (1) press w to switch the form to a sweep: comma lists of qubits, "
    "layers, batch sizes or threads, measured and warm-up steps. Select combinations in "
    "the grid and start (ctrl+r). Each point trains in its own child; this tab draws time "
    "and core-seconds per step against the swept value, one line per combination, and "
    "names the crossovers as the points finish."
)
#: Lines a metric is drawn from, with the graph's title.
METRICS = (
    ("time_per_step", "wall time per step"),
    ("core_s_per_step", "core-seconds per step"),
)


class SweepPanel(LivePanel, Vertical):
    DEFAULT_CSS = """
    SweepPanel { height: 1fr; }
    SweepPanel > #sweep-head { height: 1; }
    SweepPanel > #sweep-graphs { height: 1fr; min-height: 6; }
    SweepPanel #sweep-graphs > Vertical { width: 1fr; height: 1fr; }
    SweepPanel #sweep-graphs > Vertical:first-of-type { margin-right: 2; }
    SweepPanel #sweep-graphs .graph-title { height: 1; color: $text-muted; text-style: bold; }
    SweepPanel > #sweep-legend { height: auto; max-height: 6; }
    SweepPanel > #sweep-notes { height: auto; max-height: 8; }
    SweepPanel > #sweep-empty { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.sweep: dict[str, SweepAxis] = {}
        self.axis: str | None = None
        self.palette: list[str] = ["cyan"]
        self._legend_items: list[Text] = []
        self._predicted_for: tuple[object, ...] | None = None  # the points last predicted from
        #: What the chart draws past the measured sizes: (targets, predictions) for the
        #: points ``_predicted_for`` names, once the worker has them.
        self._drawn_prediction: tuple[list[int], list[Prediction]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="sweep-empty")
        yield Static("", id="sweep-head")
        with Horizontal(id="sweep-graphs"):
            for key, title in METRICS:
                with Vertical():
                    yield Static(title, id=f"title-{key}", classes="graph-title")
                    graph = LineGraph(id=f"graph-{key}")
                    graph.formatter = units.axis_seconds
                    yield graph
        yield Static("", id="sweep-legend")
        with VerticalScroll(id="sweep-notes"):
            yield Static("", id="sweep-crossovers")
            yield Static("", id="sweep-predicted")

    def on_mount(self) -> None:
        self._show(False)

    def _show(self, has_data: bool) -> None:
        self.query_one("#sweep-empty").display = not has_data
        for sel in ("#sweep-head", "#sweep-graphs", "#sweep-legend", "#sweep-notes"):
            self.query_one(sel).display = has_data

    def on_resize(self) -> None:
        self._layout_legend()

    def _layout_legend(self) -> None:
        """Legend items never break inside: a line holds as many whole items as fit."""
        width = self.content_size.width
        if not self.is_mounted or width <= 0:
            return
        self.query_one("#sweep-legend", Static).update(packed_legend(self._legend_items, width))

    def axes(self) -> list[str]:
        return [a for a in self.sweep if self.sweep[a].series]

    def cycle_axis(self) -> str | None:
        axes = self.axes()
        if not axes:
            return None
        i = axes.index(self.axis) if self.axis in axes else -1
        self.axis = axes[(i + 1) % len(axes)]
        self._draw()
        return self.axis

    watches = ("results", "style")

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(state.analysis()[2], state.palette)

    def update_data(self, sweep: dict[str, SweepAxis], colors: list[str]) -> None:
        self.sweep = sweep or {}
        self.palette = colors or ["cyan"]
        axes = self.axes()
        if self.axis not in axes:
            self.axis = axes[0] if axes else None
        self._draw()

    def _draw(self) -> None:
        axis = self.axis
        if axis is None:
            self._show(False)
            return
        self._show(True)
        data = self.sweep[axis]
        lines = data.series
        xs = sorted({pt.x for pts in lines.values() for pt in pts if pt.x is not None})  # type: ignore[type-var]
        ticks = [str(x) for x in xs]
        ahead = self._drawn_prediction if axis == predictions.AXIS else None
        if ahead is not None and not ahead[1]:
            ahead = None  # no model yet (fewer than 3 sizes): nothing to draw past them
        if ahead is not None:  # predicted sizes: on the axis, in brackets
            xs = [*xs, *ahead[0]]
            ticks += [f"({x})" for x in ahead[0]]
        words = AXES.get(axis, (axis, 0, axis))[2]
        for key, title in METRICS:
            series = []
            values_all: list[float] = []
            for i, (label, pts) in enumerate(lines.items()):
                by_x = {pt.x: getattr(pt, key) for pt in pts}
                values = [
                    float(v) if (v := by_x.get(x)) is not None and v > 0 else math.nan for x in xs
                ]
                values_all += [v for v in values if not math.isnan(v)]
                color = self.palette[i % len(self.palette)]
                series.append(Series(label, values, color))
                if ahead is not None:
                    guess = _predicted_series(label, key, xs, values, ahead[1], color)
                    if guess is not None:
                        series.append(guess)
                        values_all += [v for p in guess.band for v in p if v == v]
            log = bool(values_all) and max(values_all) > 10 * min(values_all)
            graph = self.query_one(f"#graph-{key}", LineGraph)
            graph.x_ticks = ticks
            graph.x_label = words
            if log:
                graph.formatter = lambda v: units.axis_seconds(10**v)
                series = [
                    Series(s.name, [_log(v) for v in s.values], s.color, s.dashed,
                           [(_log(a), _log(b)) for a, b in s.band])
                    for s in series
                ]
            else:
                graph.formatter = units.axis_seconds
            graph.y_floor = None if log else 0.0
            graph.set_series(series)
            self.query_one(f"#title-{key}", Static).update(
                f"{title}{' (log scale)' if log else ''}"
            )
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"against {words}", style="bold")
        head.append(f" · {len(lines)} line{'s' if len(lines) != 1 else ''} · {len(xs)} points")
        others = [a for a in self.axes() if a != axis]
        if others:
            head.append(f" · x: show {', '.join(AXES[a][2] for a in others)}", style="dim")
        self.query_one("#sweep-head", Static).update(head)
        items = []
        for i, (label, pts) in enumerate(lines.items()):
            item = Text()
            item.append("█ ", style=self.palette[i % len(self.palette)])
            item.append(label)
            cores = [float(c) for pt in pts if (c := pt.cores_in_use) is not None]
            if cores and max(cores) > 1.5:
                item.append(f" (up to {units.cores(max(cores))} cores!)", style="bold")
            items.append(item)
        self._legend_items = items
        self._layout_legend()
        crossings = list(data.crossovers)
        notes = Text()
        notes.append("Crossovers" + (":\n" if crossings else ": "), style="bold")
        if crossings:
            notes.append("\n".join(f"• {in_form_words(c)}" for c in crossings))
        elif len(lines) < 2:
            notes.append("one line only: select more combinations to compare them.", "dim")
        else:
            notes.append("none yet (a pair of lines needs two common points).", "dim")
        self.query_one("#sweep-crossovers", Static).update(notes)
        self._predict(axis, data)

    # --- predictions (issue 25): the models' answer two and four qubits further -------
    def _predict(self, axis: str, data: SweepAxis) -> None:
        """Predict off the UI thread (the bootstrap takes a second or two), once per set
        of points; the sizes are the largest measured + 2 and + 4."""
        if axis != predictions.AXIS or not data.models:
            self.query_one("#sweep-predicted", Static).update("")
            return
        key = tuple((label, pt.x, pt.time_per_step, pt.peak_rss)
                    for label, pts in data.series.items() for pt in pts)
        if key == self._predicted_for:
            return
        self._predicted_for = key
        self._drawn_prediction = None  # new points: the old prediction is not theirs
        xs = [pt.x for pts in data.series.values() for pt in pts if isinstance(pt.x, int)]
        if not xs:
            return
        targets = [max(xs) + 2, max(xs) + 4]
        series = dict(data.series)

        def work() -> None:
            found, words = predictions.predict(series, targets)
            self.app.call_from_thread(self._show_predicted, key, targets, found, words)

        self.run_worker(work, thread=True, exclusive=True, group="sweep-predict")

    def _show_predicted(
        self, key: tuple[object, ...], targets: list[int], found: list[Prediction], words: list[str]
    ) -> None:
        if key != self._predicted_for:
            return  # points arrived since: a newer prediction is on its way
        self._drawn_prediction = (targets, found)
        self._draw()  # the chart goes on past the measured sizes, dashed
        text = Text()
        text.append(f"Predicted at {targets[0]} and {targets[1]} qubits", style="bold")
        text.append(" (not measured; 90 % interval; qtui sweep --predict for other sizes):\n",
                    style="dim")
        if not found:
            text.append("no model yet: a combination needs 3 sizes measured.", style="dim")
        for p in found:
            text.append(f"• {p.combo} at {p.x}: {units.seconds(p.time_per_step)} per step")
            if p.time_high and p.time_low and p.time_high > p.time_low:
                text.append(f" ({units.seconds(p.time_low)}–{units.seconds(p.time_high)})", style="dim")
            text.append(f", peak {units.memory(p.peak_rss)}\n")
        for w in words:
            text.append(f"• {w}\n", style="italic")
        self.query_one("#sweep-predicted", Static).update(text)


def _log(v: float) -> float:
    return math.log10(v) if v == v and v > 0 else math.nan


#: A prediction's figure and interval fields, per chart metric.
_PREDICTED = {
    "time_per_step": ("time_per_step", "time_low", "time_high"),
    "core_s_per_step": ("core_s_per_step", "core_s_low", "core_s_high"),
}


def _predicted_series(
    label: str, key: str, xs: Sequence[object], measured: list[float], found: list[Prediction],
    color: str,
) -> Series | None:
    """The line's predicted continuation (issue 25, item 5): dashed, from its last
    measured point to the predicted sizes, with each prediction's 90 % interval as a
    dotted bar; None without a prediction for it."""
    fields = _PREDICTED.get(key)
    got = {p.x: p for p in found if p.combo == label}
    if fields is None or not got:
        return None
    values = [math.nan] * len(xs)
    band = [(math.nan, math.nan)] * len(xs)
    last = max((i for i, v in enumerate(measured) if v == v), default=None)
    if last is not None:
        values[last] = measured[last]  # joined to the measured line
    for i, x in enumerate(xs):
        p = got.get(x)  # type: ignore[call-overload]
        if p is None:
            continue
        value, low, high = (getattr(p, f) for f in fields)
        if value:
            values[i] = float(value)
        if low and high and high > low:
            band[i] = (float(low), float(high))
    return Series(f"{label} (predicted)", values, color, dashed=True, band=band)
