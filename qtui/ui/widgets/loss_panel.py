"""Loss curves of every run of the session, overlaid, one colour per run.

Two views, toggled with ``b``: the loss of every batch, or the per-epoch mean
(the forum's figure).  The legend beside the plot names each run with its
colour swatch, state and latest numbers, so the curves stay identifiable with
``NO_COLOR`` too (the legend lists runs in drawing order).  A run with a
validation set (``Workload.validation_data``) has a second line in its colour:
the validation loss per epoch, drawn at its epochs (in the batch view, held over
each epoch's batches); its legend entry says ``val``.

The legend takes at most half the panel (issue 23, item 4: long names, a
script's arguments, once left the curve no room): a name that does not fit is
cut with an ellipsis, and the curve keeps the other half at every size, the
first draw included (``max-width``, before the panel knows its width).  A
run's losses are never cut: those that do not fit beside each other go on the
next line (issue 23, item 7).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from qtui.analysis.fold import RunRecord
from qtui.core.units import loss as fmt_loss
from qtui.ui.panel import LivePanel, set_text
from qtui.ui.state import LiveState
from qtui.ui.widgets.graph import LineGraph, Series

STATE_MARK = {
    "queued": "…",
    "running": "▶",
    "finished": "✓",
    "failed": "✗",
    "crashed": "☠",
    "timed_out": "⏱",
    "cancelled": "■",
    "left_running": "⇢",
}


#: The legend's width when every name is short (its first line's words fit).
LEGEND_MIN = 33


class LossPanel(LivePanel, Horizontal):
    DEFAULT_CSS = """
    LossPanel { height: 1fr; }
    LossPanel > LineGraph { width: 1fr; }
    LossPanel > #loss-legend { width: 33; max-width: 50%; height: auto; max-height: 100%; padding: 0 0 0 1;
                               text-wrap: nowrap; text-overflow: ellipsis; }
    """

    MODES = ("batch", "epoch")
    watches = ("loss", "style")
    slot = 0  # its turn while a run trains (``qtui.ui.panel.SLOTS``)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.mode = "batch"
        self._runs: list[tuple[RunRecord, str, str]] = []  # as last drawn, redrawn on resize

    def compose(self) -> ComposeResult:
        graph = LineGraph(x_label="batches", id="loss-graph")
        graph.empty_text = "loss curves appear when a run trains its first batch"
        yield graph
        yield Static("", id="loss-legend")

    def toggle_mode(self) -> str:
        self.mode = "epoch" if self.mode == "batch" else "batch"
        self.invalidate()
        return self.mode

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(
            [
                (rec, state.run_label(rec), state.color(rec.run_id))
                for rec in state.runs()
                if rec.batch_losses or rec.epoch_losses or rec.state == "running"
            ]
        )

    def update_data(self, runs: list[tuple[RunRecord, str, str]]) -> None:
        """``runs``: (record, label, colour) in colour order."""
        self._runs = runs
        graph = self.query_one(LineGraph)
        graph.x_label = "batches" if self.mode == "batch" else "epochs"
        series = []
        lines: list[Text] = [
            Text(f"{'per batch' if self.mode == 'batch' else 'epoch mean'} · b toggles", "dim")
        ]
        room = self.legend_width(runs)
        for rec, label, color in runs:
            values = rec.batch_losses if self.mode == "batch" else rec.epoch_losses
            if values:
                series.append(Series(rec.run_id, values, color))
            val = validation_series(rec, self.mode)
            if val:
                series.append(Series(f"{rec.run_id} validation", val, color))
            line = Text("█ ", style=color)
            line.append(f"{STATE_MARK.get(rec.state, '?')} {fit_label(label, room - 5)}")
            lines.append(line)
            lines += [Text(x, "dim") for x in detail_lines(loss_words(rec), room - 1)]
        graph.set_series(series)
        legend = self.query_one("#loss-legend", Static)
        legend.styles.width = room
        set_text(legend, Text("\n").join(lines))

    def on_resize(self) -> None:
        if self._runs:  # the legend's room and its names' cuts follow the width
            self.update_data(self._runs)

    def legend_width(self, runs: list[tuple[RunRecord, str, str]]) -> int:
        """As wide as the longest entry needs, at most half the panel (the curve keeps
        the rest); before the panel is laid out, the CSS ``max-width`` holds it."""
        need = max([len(label) + 5 for _, label, _ in runs] + [LEGEND_MIN]
                   + [len(DETAIL_INDENT + "  ".join(loss_words(rec))) + 1 for rec, _, _ in runs])
        half = self.size.width // 2
        return min(need, half) if half else need


def validation_series(rec: RunRecord, mode: str) -> list[float]:
    """The validation losses on the view's x axis: one per epoch, or in the batch view
    each epoch's value over that epoch's batches (the training curve's positions)."""
    val = rec.validation_losses
    if not val or mode != "batch":
        return list(val)
    per = int(rec.started.get("batches_per_epoch") or 0)
    if per <= 0 and rec.epoch_losses:
        per = len(rec.batch_losses) // len(rec.epoch_losses)
    if per <= 0:
        return []
    out = [v for v in val for _ in range(per)]
    return out[: len(rec.batch_losses)] if rec.state == "running" else out


#: A run's losses sit under its name, indented past its swatch and state.
DETAIL_INDENT = "   "


def loss_words(rec: RunRecord) -> list[str]:
    """``batch 0.4239``, ``ep11 mean 0.1612``, ``val 0.2``: the run's latest losses."""
    words = []
    if rec.last_loss is not None:
        words.append(f"batch {fmt_loss(rec.last_loss)}")
    if rec.epoch_losses:
        words.append(f"ep{len(rec.epoch_losses)} mean {fmt_loss(rec.epoch_losses[-1])}")
    if rec.validation_losses:
        words.append(f"val {fmt_loss(rec.validation_losses[-1])}")
    return words


def detail_lines(words: list[str], room: int) -> list[str]:
    """The losses in lines of at most ``room`` cells, each figure whole: a loss cut to
    ``ep11 mean 0.16…`` said nothing (issue 23, item 7); one that does not fit goes on
    the next line."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 2 + len(word) <= room:
            lines[-1] += "  " + word
        else:
            lines.append(DETAIL_INDENT + word)
    return lines


def fit_label(label: str, room: int) -> str:
    """The run's name in ``room`` cells: the method's short name before an ellipsis."""
    if len(label) <= room:
        return label
    for long, short in (("parameter-shift", "param-shift"), ("finite-diff", "f-diff")):
        label = label.replace(long, short)
    return label if len(label) <= room else label[: max(1, room - 1)] + "…"
