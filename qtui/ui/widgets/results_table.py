"""Per-combination results, hyperfine-style, filling in as runs finish.

Renders ``qtui.report.results``' model and nothing else: the same columns, cell
texts, best-value marks and ``!`` (fast by burning cores) as ``qtui run``,
``qtui report`` and every export.  The best value of each column is marked
with ``★`` (not only coloured, so it survives ``NO_COLOR``; tied best values
are all marked); a Cores cell carrying the model's ``!`` is drawn in the
warning colour.  ``s`` sorts by the column under the cursor (by the raw
value); pressing it again reverses.  Fed ``results[]`` entries (the live
session's ``combos()`` or a saved summary's), so the history screen shows a
saved session with this same widget.

Workload groups (``qtui.core.workload_groups``): when the results hold more
than one (a ``qtui exec`` script beside built-in runs, a sweep's points), each
group comes under a header row of its own, its name in bold in the
Combination column: a row rather than a column, so that 80 columns keep
their room for figures.  ★ and Relative are the model's, within a group; a
sort orders the rows within each group.  The Combination column is frozen
(``fixed_columns``): scrolled right at 80 columns, every row keeps its name.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual._context import NoActiveAppError
from textual.binding import Binding
from textual.widgets import DataTable

from qtui.core.safe_text import visible
from qtui.core.summary_schema import Result
from qtui.report import results as model
from qtui.ui.panel import LivePanel
from qtui.ui.state import LiveState

#: Above this many cores in use a combination is fast by burning cores (the model's rule).
BURN_CORES = model.BURN_CORES


def _sort_key(raw: Any) -> tuple[int, Any]:
    """Numbers by value, text after them by text, missing values last."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return (0, raw)
    return (1, str(raw)) if raw is not None else (2, "")


class ResultsTable(LivePanel, DataTable[Text]):
    BINDINGS = [
        Binding("s", "sort_column", "Sort"),
    ]

    DEFAULT_CSS = """
    ResultsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="cell", zebra_stripes=True)
        # the Combination column stays while the others scroll: a row keeps its name
        self.fixed_columns = 1
        self.combos: list[Result] = []
        self.model = model.from_results([])
        self.sort_key: str | None = None
        self.sort_reverse = False
        self._shown: list[model.Row | None] = []  # None: a group's header row

    def on_mount(self) -> None:
        self._rebuild()

    watches = ("results", "style")

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(state.analysis()[0])

    def update_data(self, combos: list[Result]) -> None:
        self.combos = combos
        self.model = model.from_results(combos)
        self._rebuild()

    def row_at(self, index: int) -> model.Row | None:
        """The model row drawn at ``index`` (rows may be sorted); None on a group's header."""
        return self._shown[index] if 0 <= index < len(self._shown) else None

    def action_sort_column(self) -> None:
        col = self.model.columns[self.cursor_coordinate.column].key
        if self.sort_key == col:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = col, False
        self._rebuild()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.move_cursor(column=event.column_index)
        self.action_sort_column()

    def _rebuild(self) -> None:
        cursor = self.cursor_coordinate
        groups = self.model.groups
        headed = len(groups) > 1
        drawn: list[model.Row | None] = []
        for _, members in groups:
            if headed:
                drawn.append(None)
            drawn.extend(self._sorted(members))
        self._shown = drawn
        try:
            good = f"bold {self.app.current_theme.success or 'green'}"
            burn = f"bold reverse {self.app.current_theme.warning or 'yellow'}"
        except NoActiveAppError:  # not mounted in an app: no theme
            good, burn = "bold", "bold reverse"
        # the columns come from the model too (the loss column's title names its kind)
        self.clear(columns=True)
        for col in self.model.columns:
            arrow = (" ▼" if self.sort_reverse else " ▲") if col.key == self.sort_key else ""
            self.add_column(Text(col.title + arrow), key=col.key)
        names = iter(name for name, _ in groups)
        for i, row in enumerate(drawn):
            if row is None:
                header = Text(visible(next(names)), style="bold")
                self.add_row(header, *[Text("") for _ in self.model.columns[1:]], key=f"{i}:group")
                continue
            cells = []
            for col in self.model.columns:
                cell = row.cells[col.key]
                # the name with ⚠ when a run was contended, as in every view (Row.marked_label)
                shown = visible(row.marked_label if col.key == "combo" else cell.shown)
                if cell.best:
                    cells.append(Text("★ " + shown, style=good))
                elif cell.mark == model.BURN_MARK:
                    cells.append(Text(shown, style=burn))
                else:
                    cells.append(Text(shown))
            self.add_row(*cells, key=f"{i}:{row.label}")
        if drawn:
            self.move_cursor(
                row=min(cursor.row, len(drawn) - 1), column=cursor.column, animate=False
            )

    def _sorted(self, rows: list[model.Row]) -> list[model.Row]:
        """``rows`` by the sort column (missing values last), or as they came."""
        if not self.sort_key:
            return list(rows)
        key = self.sort_key
        present = [r for r in rows if r.cells[key].raw is not None]
        missing = [r for r in rows if r.cells[key].raw is None]
        present.sort(key=lambda r: _sort_key(r.cells[key].raw), reverse=self.sort_reverse)
        return present + missing
