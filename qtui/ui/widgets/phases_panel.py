"""Where a training step's time goes: the phase breakdown of one run and of each combination.

Top: the run the panel follows (the run highlighted in a queue, else the
running one, else the latest with phases) as one proportional bar per phase,
with seconds and percent of the measured step.  Below: one stacked bar per
combination (mean of its finished runs), so backprop, adjoint and
parameter-shift can be compared at a glance.  Segments carry a letter as well
as a colour, so they read with ``NO_COLOR``.  Phase names, letters and the
sentence under the bars come from ``qtui.core.phase_names``, as in every
report.

It answers the forum's "is the classical part still trained by PyTorch's
backprop when the QNode uses adjoint?": *backward nn layers* is PyTorch's
autograd over the model's own layers, whatever the QNode's method, next to
PennyLane's framework and the device.  With adjoint, PennyLane computes the
Jacobian during the forward pass, so that cost shows in *forward device*; the
caption says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from qtui.core import phase_names
from qtui.core.phase_names import Phase
from qtui.core.summary_schema import Result
from qtui.core.units import percent
from qtui.core.units import seconds as fmt_seconds
from qtui.ui.panel import LivePanel
from qtui.ui.state import LiveState

ADJOINT_CAPTION = (
    "adjoint: PennyLane computes the Jacobian during the forward pass, so its cost "
    "is in forward device."
)
_EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass
class PhaseRow:
    """One line of the per-combination comparison."""

    label: str
    method: str
    seconds: dict[str, float]
    steps: int | None


def _bar(fraction: float, width: int) -> str:
    """A left-aligned bar of ``fraction`` × ``width`` cells, in eighths."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


class PhasesPanel(LivePanel, Widget):
    DEFAULT_CSS = """
    PhasesPanel { height: auto; min-height: 4; }
    """

    watches = ("phases", "results", "style")
    MAX_BAR = 60

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.run_title = ""
        self.method = ""
        self.seconds: dict[str, float] = {}
        self.steps: int | None = None
        self.rows: list[PhaseRow] = []
        self.palette: list[str] = ["cyan"]
        self._lines = -1  # as last drawn

    def refresh_from(self, state: LiveState) -> None:
        rec = state.phases_run(state.phases_pick)
        title, method, seconds, steps = "", "", {}, None
        if rec is not None:
            mark = {"running": "▶ ", "finished": "✓ "}.get(rec.state, "")
            title = f"{mark}{rec.run_id} {state.run_label(rec)}"
            method = str(rec.started.get("resolved_diff_method") or rec.diff_method)
            seconds = rec.phases
            steps = rec.result.get("steps") if rec.result else None
        self.update_data(
            title, method, seconds, steps, phase_rows(state.analysis()[0]), state.palette
        )

    def update_data(
        self,
        run_title: str,
        method: str,
        seconds: dict[str, float],
        steps: int | None,
        rows: list[PhaseRow],
        colors: list[str],
    ) -> None:
        self.run_title = run_title
        self.method = method
        self.seconds = dict(seconds)
        self.steps = steps
        self.rows = rows
        self.palette = colors or ["cyan"]
        # Its height follows its lines (``height: auto``): a layout re-arranges and
        # repaints the whole screen, so only when their count changed, not at every
        # phases report (each second of a run) nor when only the figures moved.
        lines = self.render().plain.count("\n")
        self.refresh(layout=lines != self._lines)
        self._lines = lines

    def _color(self, phase: Phase, names: tuple[Phase, ...]) -> str:
        return self.palette[names.index(phase) % len(self.palette)]

    def render(self) -> Text:
        width = max(30, self.content_size.width or self.size.width or 80)
        text = Text(no_wrap=True, overflow="ellipsis")
        if not self.run_title and not self.rows:
            text.append(
                "No phase breakdown yet: runs report one about once a second while they "
                "train,\nand a final one when they finish.",
                style="dim",
            )
            return text
        if self.run_title:
            self._detail(text, width)
        if self.rows:
            if self.run_title:
                text.append("\n")
            self._comparison(text, width)
        return text

    def _detail(self, text: Text, width: int) -> None:
        names = phase_names.shown(self.seconds)
        total = phase_names.total(self.seconds, names)
        text.append(self.run_title + "\n", style="bold")
        sub = f"{fmt_seconds(total)} measured"
        if self.steps:
            sub += f" over {self.steps} steps · {fmt_seconds(total / self.steps)} per step"
        text.append(sub + "\n", style="dim")
        if total <= 0:
            text.append("waiting for the first measured steps…\n", style="dim")
            return
        name_w = max(len(p.words) for p in names) + 1
        bar_w = max(5, min(self.MAX_BAR, width - name_w - 20))
        for phase in names:
            value = float(self.seconds.get(phase.key, 0.0))
            share = value / total
            text.append(f"{phase.words:<{name_w}}")
            text.append(_bar(share, bar_w), style=self._color(phase, names))
            text.append(f" {fmt_seconds(value):>9} {percent(share):>7}\n")
        words = phase_names.backward_words(self.seconds, self.steps)
        if phase_names.is_legacy(names):
            text.append(phase_names.LEGACY_NOTE + "\n", style="dim")
        elif words:
            text.append(words[0].upper() + words[1:] + "\n", style="dim")
        elif "step_nn" in self.seconds:
            text.append(
                "the workload's own train_step: qtui cannot split its forward from its "
                "backward; step device is time in PennyLane's device calls\n",
                style="dim",
            )
        if "adjoint" in self.method:
            text.append(ADJOINT_CAPTION + "\n", style="italic")

    @staticmethod
    def _per_step(row: PhaseRow) -> str:
        total = phase_names.total(row.seconds, phase_names.shown(row.seconds))
        if total <= 0:
            return ""
        if row.steps:
            return f"{fmt_seconds(total / row.steps)}/step"
        return fmt_seconds(total)

    def _comparison(self, text: Text, width: int) -> None:
        text.append("Per combination (mean of finished runs)\n", style="bold")
        names = phase_names.shown(*(r.seconds for r in self.rows))
        used = 0
        for phase in names:  # the key; an item never breaks across lines
            item = Text()
            item.append(f" {phase.letter} ", style=Style.parse(self._color(phase, names) + " reverse"))
            item.append(f" {phase.words}  ", style="dim")
            if used and used + item.cell_len > width:
                text.append("\n")
                used = 0
            text.append_text(item)
            used += item.cell_len
        text.append("\n")
        label_w = min(40, max((len(r.label) for r in self.rows), default=10))
        suffixes = [self._per_step(r) for r in self.rows]
        suffix_w = max((len(x) for x in suffixes), default=12) + 1
        bar_w = max(10, min(self.MAX_BAR, width - label_w - 1 - suffix_w))
        any_adjoint = False
        for row, suffix in zip(self.rows, suffixes, strict=True):
            total = phase_names.total(row.seconds, names)
            text.append(f"{row.label[:label_w]:<{label_w}} ")
            if total <= 0:
                text.append("—\n", style="dim")
                continue
            any_adjoint = any_adjoint or "adjoint" in row.method
            used = 0
            acc = 0.0
            for phase in names:
                acc += float(row.seconds.get(phase.key, 0.0))
                end = round(acc / total * bar_w)  # cumulative: the widths add up exactly
                n = end - used
                if n > 0:
                    text.append(
                        phase.letter * n, style=Style.parse(self._color(phase, names) + " reverse")
                    )
                used = end
            text.append(f" {suffix}\n")
        if any_adjoint and "adjoint" not in self.method:
            text.append(ADJOINT_CAPTION + "\n", style="italic")


def phase_rows(results: list[Result]) -> list[PhaseRow]:
    """Per-combination rows from ``SessionSummary.combos()`` records with phases."""
    rows = []
    for r in results:
        if not r.phases:
            continue
        phases = {k: v for k, v in r.phases.items() if v is not None}
        method = str(r.resolved_diff_method or r.parameters.get("diff_method"))
        rows.append(PhaseRow(r.label or r.combo or "?", method, phases, r.steps))
    return rows
