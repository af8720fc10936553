"""Every distinct Python warning the runs raised, deduplicated across runs.

One row per (category, message, file:line) with the total count and the runs
that raised it; the most recently seen warning is marked ``● new``.  The
highlighted row's full text (message, source, counts per run, first/last
seen) shows below the table: messages are often long and the table truncates.
"""

from __future__ import annotations

import contextlib
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static, TabbedContent

from qtui.core import units
from qtui.core.safe_text import one_line, visible, visible_rich
from qtui.ui.panel import LivePanel
from qtui.ui.state import LiveState, MergedWarning
from qtui.ui.tabs import label as tab_label


def _short_source(filename: str, lineno: int) -> str:
    """From the installed package down (``torch/autograd/graph.py:823``), as the CLI says it."""
    return units.source_location(filename, lineno)


class WarningsPanel(LivePanel, Vertical):
    DEFAULT_CSS = """
    WarningsPanel { height: 1fr; }
    WarningsPanel > DataTable { height: 2fr; }
    WarningsPanel > VerticalScroll { height: 1fr; min-height: 3; border-top: solid $panel-lighten-2; }
    """

    COLS = (
        ("mark", ""),
        ("count", "Count"),
        ("category", "Category"),
        ("source", "Source"),
        ("runs", "Runs"),
        ("message", "Message"),
    )

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.items: dict[str, MergedWarning] = {}
        self.newest: str | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True, id="warnings-table")
        with VerticalScroll(id="warning-detail-scroll"):
            yield Static(
                "No warnings yet. Warnings raised by a run are counted here, not swallowed.",
                id="warning-detail",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in self.COLS:
            table.add_column(Text(label), key=key)  # as written: a str is markup, with emoji

    watches = ("warnings",)

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(state)
        # the tab's label counts them, so they are seen from every tab
        n = len(state.warnings)
        for tabs in self.app.query(TabbedContent):
            with contextlib.suppress(NoMatches):  # a TabbedContent without a warnings tab
                tabs.get_tab("warnings").label = tab_label("warnings", n)

    def update_data(self, state: LiveState) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        self.items = dict(state.warnings)
        old_newest, self.newest = self.newest, state.newest_warning
        for key, w in self.items.items():
            cells = self._cells(w, key == self.newest)
            if key in table.rows:
                for (col, _), cell in zip(self.COLS, cells, strict=True):
                    table.update_cell(key, col, cell, update_width=True)
            else:
                table.add_row(*cells, key=key)
        if old_newest and old_newest != self.newest and old_newest in self.items:
            table.update_cell(old_newest, "mark", Text(""))
        self._show_detail()

    def _cells(self, w: MergedWarning, newest: bool) -> list[Text]:
        return [
            Text("● new" if newest else "", style="bold"),
            Text(str(w.count), justify="right"),
            Text(visible(w.category)),  # a run's text: control characters escaped
            Text(visible(_short_source(w.filename, w.lineno))),
            Text(str(len(w.counts))),
            Text(one_line(w.message.splitlines()[0] if w.message else "")),
        ]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.row_count:
            return
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        w = self.items.get(str(key.value))
        if w is None:
            return
        per_run = ", ".join(f"{r}×{n}" for r, n in w.counts.items())
        first = time.strftime("%H:%M:%S", time.localtime(w.first_t)) if w.first_t else "?"
        last = time.strftime("%H:%M:%S", time.localtime(w.last_t)) if w.last_t else "?"
        text = Text()
        text.append(f"{w.category}", style="bold")
        text.append(f"  {w.count} times  first {first}  last {last}\n", style="dim")
        text.append(f"{w.filename}:{w.lineno}\n", style="dim")
        text.append(f"runs: {per_run}\n", style="dim")
        text.append(w.message)
        self.query_one("#warning-detail", Static).update(visible_rich(text))
