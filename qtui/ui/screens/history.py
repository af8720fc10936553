"""Past sessions from the history database; enter opens one's results table.

A cluster session (``--executor slurm``) says so in the Where column; ``a``
re-attaches to it while its jobs folder (``session_started.executor.jobs_dir``)
still holds the manifest: its runs are followed again, as ``qtui watch
--jobs-dir`` does.

Reads ``qtui.store.history_db.HistoryDB`` (the same store ``qtui history`` reads), so
what the TUI lists is what the CLI lists.  The results are shown with the live
``ResultsTable`` widget, from the summary rebuilt out of the stored events.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from qtui.core.safe_text import one_line, visible
from qtui.core.summary_schema import Summary
from qtui.ui.widgets.results_table import ResultsTable


def _when(t: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(t)))
    except (TypeError, ValueError):
        return "?"


class SessionResultsScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "back", "Back")]

    DEFAULT_CSS = """
    SessionResultsScreen #sr-title { height: auto; padding: 0 1; background: $panel; }
    """

    def __init__(self, session_id: str, summary: Summary) -> None:
        super().__init__()
        self.session_id = session_id
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        head = f"session {self.session_id} · {s.datetime or ''}"
        if s.interrupted:
            head += " · interrupted"
        lines = [head]
        for r in s.refused:
            lines.append(f"refused: {r.device}+{r.diff_method}: {r.reason}")
        yield Static(Text(visible("\n".join(lines))), id="sr-title")  # a file's text, escaped
        yield ResultsTable(id="history-results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ResultsTable).update_data(list(self.summary.results))
        self.query_one(ResultsTable).focus()

    def action_back(self) -> None:
        self.dismiss(None)


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("enter", "open", "Open session", show=True),
        Binding("c", "compare", "Compare with this session", show=True),
        Binding("a", "reattach", "Re-attach (cluster)", show=True),
    ]

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; padding: 0 1; background: $panel; }
    HistoryScreen #history-error { color: $error; height: auto; padding: 0 1; }
    """

    def __init__(
        self,
        db_factory: Any = None,
        current: Any = None,
        reattach: Callable[[Path], bool] | None = None,
    ) -> None:
        """``current()`` returns this session's ``Summary`` (for ``c``: compare);
        ``reattach(folder)`` follows a cluster session again (for ``a``)."""
        super().__init__()
        self.db_factory = db_factory
        self.current = current
        self.reattach = reattach
        self.sessions: list[dict[str, Any]] = []
        self.jobs_dirs: dict[str, str] = {}  # session id -> its cluster jobs folder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "History, newest first — enter opens · c compares · a re-attaches (cluster)",
                id="history-title",
            )
            yield Static("", id="history-error")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="history-table")
        yield Footer()

    def _db(self) -> Any:
        if self.db_factory is not None:
            return self.db_factory()
        from qtui.store.history_db import HistoryDB

        return HistoryDB()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for key, label in (
            ("sid", "Session"),
            ("when", "Started"),
            ("status", "Status"),
            ("where", "Where"),
            ("runs", "Runs"),
            ("combos", "Combinations"),
        ):
            table.add_column(label, key=key)
        try:
            db = self._db()
            self.sessions = list(db.sessions())
        except Exception as exc:  # noqa: BLE001 - boundary: shown in #history-error; the app goes on
            self.query_one("#history-error", Static).update(Text(one_line(f"history unavailable: {exc}")))
            return
        if not self.sessions:
            self.query_one("#history-error", Static).update(
                "no sessions recorded yet: runs started from qtui are recorded as they go"
            )
        from qtui.store.history_db import run_tally

        for s in self.sessions:
            runs = run_tally(s)
            where = self._where(db, str(s.get("session_id", "")))
            table.add_row(  # names from the recorded logs: control characters escaped
                Text(visible(s.get("session_id", ""))),
                Text(_when(s.get("started_t"))),
                Text(visible(s.get("status", ""))),
                Text(visible(where)),
                Text(runs),
                Text(visible(", ".join(s.get("combos") or []))),
                key=str(s.get("session_id")),
            )
        table.focus()

    def _where(self, db: Any, session_id: str) -> str:
        """``local``, or the cluster executor (its jobs folder kept for ``a``)."""
        try:
            started = db.session_started(session_id)
        except sqlite3.Error:  # a column, not worth failing the list for: "?" says unknown
            return "?"
        executor = dict(started.executor) if started is not None else {}
        if executor.get("jobs_dir"):
            self.jobs_dirs[session_id] = str(executor["jobs_dir"])
        return str(executor.get("name") or "local")

    def action_reattach(self) -> None:
        """``a``: follow the highlighted cluster session again (its manifest must remain)."""
        from qtui.cluster.jobs_folder import MANIFEST

        error = self.query_one("#history-error", Static)
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.row_count:
            return
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        sid = str(key.value)
        folder = self.jobs_dirs.get(sid)
        if folder is None:
            error.update(f"{sid} ran locally: nothing to re-attach to (a: cluster sessions)")
            return
        if not (Path(folder) / MANIFEST).is_file():
            error.update(Text(visible(f"cannot re-attach to {sid}: {Path(folder) / MANIFEST} no longer exists")))
            return
        if self.reattach is None:
            error.update(Text(visible(f"re-attach with: qtui watch --jobs-dir {folder}")))
            return
        self.dismiss(None)
        self.reattach(Path(folder))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def _selected(self) -> tuple[str, Summary] | None:
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        sid = str(key.value)
        try:
            return sid, self._db().summary(sid)
        except Exception as exc:  # noqa: BLE001 - boundary: shown in #history-error; the app goes on
            self.query_one("#history-error", Static).update(Text(one_line(f"cannot open {sid}: {exc}")))
            return None

    def action_open(self) -> None:
        picked = self._selected()
        if picked is not None:
            self.app.push_screen(SessionResultsScreen(*picked))

    def action_compare(self) -> None:
        from qtui.analysis.comparison import same_session
        from qtui.ui.screens.comparison import ComparisonScreen

        error = self.query_one("#history-error", Static)
        current = self.current() if self.current is not None else None
        if current is None or not current.results:
            error.update("nothing to compare yet: this session has no finished run")
            return
        picked = self._selected()
        if picked is None:
            return
        same = same_session(picked[1], current)
        if same:  # a table of +0.0 % says nothing
            error.update(Text(visible(f"{same}: a comparison with itself says nothing; pick another session")))
            return
        self.app.push_screen(ComparisonScreen(picked[0], picked[1], current))

    def action_back(self) -> None:
        self.dismiss(None)
