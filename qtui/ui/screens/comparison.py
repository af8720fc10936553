"""A past session (A) against the current one (B): per combination, the time verdict.

Same data and verdict rules as ``qtui compare`` (``qtui.analysis.comparison``), so the
screen and the CLI never disagree.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from qtui.analysis.comparison import Side, compare, row_texts, rule_text
from qtui.core import units
from qtui.core.safe_text import visible
from qtui.core.summary_schema import Summary

_STYLES = {"faster": "green", "slower": "red", "less memory": "green", "more memory": "red"}


def _time(side: Side) -> str:
    if side.mean is None:
        return units.MISSING
    return f"{units.mean_sd(side.mean, side.stddev)} (n={side.n})"


class ComparisonScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "back", "Back")]

    DEFAULT_CSS = """
    ComparisonScreen #cmp-title { height: auto; padding: 0 1; background: $panel; }
    """

    def __init__(self, past_id: str, past: Summary, current: Summary) -> None:
        super().__init__()
        self.past_id = past_id
        self.result = compare(past, current)

    def compose(self) -> ComposeResult:
        r = self.result
        lines = [f"A = past session {self.past_id}   B = this session"]
        if not r.combinations:
            lines.append("No combination with the same parameters in both sessions.")
        for label, items in (("only in A", r.only_in_a), ("only in B", r.only_in_b)):
            if items:
                lines.append(f"{label}: {', '.join(items)}")
        lines.append(rule_text(r.threshold))
        yield Static(Text(visible("\n".join(lines))), id="cmp-title")  # names from the files, escaped
        yield DataTable(cursor_type="row", zebra_stripes=True, id="cmp-table")
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for label in ("Combination", "Time A", "Time B", "Change", "Speed", "Peak RSS A → B", "Memory"):
            table.add_column(label)
        for row in self.result.combinations:
            table.add_row(
                Text(visible(row.combination)),
                Text(_time(row.a)),
                Text(_time(row.b)),
                Text(units.change(row.time_change)),
                Text(row_texts(row)["speed"], style=_STYLES.get(row.speed, "")),
                Text(f"{units.memory(row.a.peak_rss_bytes)} → {units.memory(row.b.peak_rss_bytes)}"),
                Text(row.memory, style=_STYLES.get(row.memory, "")),
            )
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)
