"""Two or more sessions side by side: their loss curves in one chart, and for two of
them (A → B) the time and memory verdict per combination.

The curves are ``qtui.analysis.comparison.loss_overlay``'s, the ones ``qtui compare
--html`` draws: one line per session and combination, a colour per line, solid for
A, C, E... and dashed for B, D..., so that the sessions part with ``NO_COLOR`` too.
The legend names every line whole (session letter and combination), as many to a
line as fit, never cut.  The verdicts are ``compare``'s, with the same words as
``qtui compare``, so the screen and the CLI never disagree.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from qtui.analysis.comparison import (
    OVERLAY_CAPTION,
    Comparison,
    compare,
    loss_overlay,
    row_texts,
    rule_text,
)
from qtui.core.safe_text import visible
from qtui.core.summary_schema import Summary
from qtui.ui.panel import packed_legend
from qtui.ui.widgets.graph import LineGraph, Series
from qtui.ui.widgets.key_footer import KeyFooter

_STYLES = {"faster": "green", "slower": "red", "less memory": "green", "more memory": "red"}
#: The series colours when the app has no theme palette (a bare host in tests).
_COLORS = ["#4EA1FF", "#FFB454", "#5FD787", "#FF6AC1", "#B48EFF", "#4DD0E1", "#FF5F5F"]
#: The legend's swatch: a solid line for A, C...; dashed for B, D... (as drawn).
_SWATCH = ("━━", "╍╍")


class ComparisonScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "back", "Back")]

    DEFAULT_CSS = """
    ComparisonScreen #cmp-title { height: auto; padding: 0 1; background: $panel; }
    ComparisonScreen #cmp-caption { height: 1; padding: 0 1; color: $text-muted; text-style: bold; }
    ComparisonScreen #cmp-loss { height: 1fr; min-height: 5; padding: 0 1; }
    ComparisonScreen #cmp-legend { height: auto; padding: 0 1; }
    ComparisonScreen #cmp-table { height: auto; max-height: 8; }
    ComparisonScreen #cmp-rule { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, sides: list[tuple[str, Summary]]) -> None:
        """``sides``: (what the user knows the session by, its summary), A first."""
        super().__init__()
        self.sides = sides
        self.overlay = loss_overlay(sides)
        self.result: Comparison | None = compare(sides[0][1], sides[1][1]) if len(sides) == 2 else None

    def compose(self) -> ComposeResult:
        lines = [f"{s.letter} = {s.title}" for s in self.overlay.sessions]
        r = self.result
        if r is None:
            lines.append(f"{len(self.sides)} sessions: the chart only; mark two sessions for the verdicts")
        else:
            if not r.combinations:
                lines.append("No combination with the same parameters in both sessions.")
            for label, items in (("only in A", r.only_in_a), ("only in B", r.only_in_b)):
                if items:
                    lines.append(f"{label}: {', '.join(items)}")
        yield Static(Text(visible("\n".join(lines))), id="cmp-title")  # names from the files, escaped
        yield Static(OVERLAY_CAPTION, id="cmp-caption")
        graph = LineGraph(x_label="epochs", id="cmp-loss")
        graph.empty_text = "no run of these sessions recorded a loss per epoch"
        yield graph
        yield Static("", id="cmp-legend")
        if r is not None and r.combinations:  # else the title says there is none
            yield DataTable(cursor_type="row", zebra_stripes=True, id="cmp-table")
            yield Static(rule_text(r.threshold), id="cmp-rule")
        yield KeyFooter(compact=True)

    def _colors(self) -> list[str]:
        colors = getattr(self.app, "series_colors", None)
        return list(colors()) if callable(colors) else _COLORS

    def on_mount(self) -> None:
        colors = self._colors()
        series = []
        self._legend: list[Text] = []
        for i, curve in enumerate(self.overlay.curves):
            color = colors[i % len(colors)]
            dashed = curve.session % 2 == 1
            values = [float("nan") if v is None else v for v in curve.losses]
            series.append(Series(curve.name, values, color, dashed=dashed))
            item = Text(_SWATCH[dashed] + " ", style=color)
            item.append(visible(curve.name))
            self._legend.append(item)
        self.query_one(LineGraph).set_series(series)
        self._layout_legend()
        if self.result is not None and self.result.combinations:
            self._fill_table(self.result)

    def on_resize(self) -> None:
        self.call_after_refresh(self._layout_legend)  # at the legend's new width

    def _layout_legend(self) -> None:
        """Each name whole: a line holds as many entries as fit, the next starts a line."""
        legend = self.query_one("#cmp-legend", Static)
        width = legend.content_size.width or self.size.width - 2
        legend.update(packed_legend(getattr(self, "_legend", []), width))

    def _fill_table(self, result: Comparison) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for label in ("Combination", "Time A", "Time B", "Change", "Speed", "Peak RSS A → B", "Memory"):
            table.add_column(label)
        for row in result.combinations:
            t = row_texts(row)
            table.add_row(
                Text(visible(row.combination)),
                Text(t["time_a"]),
                Text(t["time_b"]),
                Text(t["time_change"]),
                Text(t["speed"], style=_STYLES.get(row.speed, "")),
                Text(f"{t['memory_a']} → {t['memory_b']}"),
                Text(row.memory, style=_STYLES.get(row.memory, "")),
            )
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

