"""Past sessions from the history database; enter opens one's results table.

Worked with as in W&B's and MLflow's local views: ``n``/``t``/``o`` name, tag and
note the highlighted session (one dialog, ``screens/session_marks.py``), ``/``
filters the list with the words of ``qtui history``'s flags (one parser,
``qtui.store.history_filter``), ``d`` deletes a session after asking (not this
app's own).  ``space`` marks sessions, and ``c`` opens a comparison of the marked
ones (``screens/comparison.py``: their loss curves in one chart, oldest A, and with
two the verdicts); with none marked, ``c`` compares the highlighted session with
this one (not this session itself).

A cluster session (``--executor slurm``) says so in the Where column; ``a``
re-attaches to it while its jobs folder (``session_started.executor.jobs_dir``)
still holds the manifest: its runs are followed again, as ``qtui watch
--jobs-dir`` does.

Every combination's name is whole (issue 23, "tables that keep their names": at 80
columns the list showed ``default.qubit+ba`` and scrolled sideways).  Where the
Combinations column has room for the longest name beside the other columns, a
session's names are packed into its cell, comma-separated, in lines that break only
between names (``packed``), the row as tall as its lines: one line for most sessions,
more for a session of many combinations (six joined did not fit 200 columns).  Where
it has not (80 columns: a session id, its start, status, where and runs leave it 13
columns at most, and one name takes 22 to 31, a script run's up to 40), the table has no
Combinations column and the line under it names the highlighted session's
combinations in full, packed the same way (``combinations: …``), like the note line;
the list keeps one line per session.  Narrowing the other columns was the other way,
and it does not reach: a shorter Started and the Where column merged away still leave
no room for ``lightning.qubit+parameter-shift`` beside a failed run's ``3/4 (1
failed)``.  The table takes the room the lines under it leave (``height: 1fr``): as
tall as its rows, a long list pushed them off the screen.  The session id is the first
column, whole at any width.

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

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from qtui.core.safe_text import one_line, visible
from qtui.core.summary_schema import Summary
from qtui.store.history_filter import FilterError, SessionFilter
from qtui.store.history_filter import parse as parse_filter
from qtui.store.session_marks import marks_text
from qtui.ui.widgets.key_footer import KeyFooter
from qtui.ui.widgets.results_table import ResultsTable

_TITLE = "History, newest first — enter opens · / filters · a re-attaches (cluster)"


#: The list's columns, in order; ``COMBOS`` last, where it fits (the module's docstring).
COLUMNS = (("sid", "Session"), ("name", "Name"), ("when", "Started"), ("status", "Status"),
           ("where", "Where"), ("runs", "Runs"))
COMBOS = ("combos", "Combinations")


def combos_room(cells: list[list[str]], room: int, padding: int) -> int:
    """The cells left to ``COMBOS`` by ``COLUMNS`` (``cells``: each row's texts) in a
    table ``room`` cells wide, each column padded ``padding`` a side."""
    columns = [*zip(*cells, strict=True)] if cells else [() for _ in COLUMNS]
    widths = [max([cell_len(title), *(cell_len(x) for x in texts)])
              for (_, title), texts in zip(COLUMNS, columns, strict=True)]
    return room - sum(widths) - 2 * padding * (len(widths) + 1)


def packed(names: list[str], width: int, lead: str = "") -> list[str]:
    """``names`` comma-separated, ``lead`` before the first, in lines of at most
    ``width`` cells that break only between names (a longer name alone on its line)."""
    lines: list[str] = []
    for i, name in enumerate(names):
        piece = ("" if i else lead) + name + ("," if i < len(names) - 1 else "")
        if lines and cell_len(lines[-1]) + 1 + cell_len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return lines


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
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(ResultsTable).update_data(list(self.summary.results))
        self.query_one(ResultsTable).focus()

    def action_back(self) -> None:
        self.dismiss(None)


class FilterField(Input):
    """The list's filter (``/``): escape leaves it without applying what was typed."""

    BINDINGS = [Binding("escape", "leave", "Leave the filter", show=False)]

    def action_leave(self) -> None:
        self.screen.action_leave_filter()  # type: ignore[attr-defined]


class HistoryScreen(Screen[None]):
    # The footer's words are short, so that every key it shows is whole at 80 columns
    # (``/ Fil…`` cut n, t, o and d off); ``?`` shows the tooltips.
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("enter", "open", "Open session", show=True),
        Binding("c", "compare", "Compare", tooltip="Compare the marked sessions (their loss "
                "curves in one chart), else the highlighted one with this session"),
        Binding("space", "toggle_mark", "Mark", tooltip="Mark the session for c (again: unmark)"),
        # priority: the field has focus before a key sent in the same burst arrives; / and
        # a are said in the title (the footer's room is 80 columns)
        Binding("slash", "filter", "Filter", key_display="/", priority=True, show=False,
                tooltip="Filter the list: tag:TAG device:NAME method:NAME since:/until:YYYY-MM-DD "
                "words"),
        Binding("n", "mark('name')", "Name", tooltip="Name the session (one dialog for name, "
                "tags and note)"),
        Binding("t", "mark('tags')", "Tag", tooltip="Tag the session (tags separated by spaces)"),
        Binding("o", "mark('note')", "Note", tooltip="A note on the session"),
        Binding("d", "delete", "Delete", tooltip="Delete the session, its runs and events (asks "
                "first) and its qtui exec output folder"),
        Binding("a", "reattach", "Re-attach (cluster)", show=False),
    ]

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: auto; padding: 0 1; background: $panel; }
    HistoryScreen #history-filter { display: none; }
    HistoryScreen #history-error { color: $error; height: auto; padding: 0 1; }
    HistoryScreen #history-table { height: 1fr; }
    HistoryScreen #history-combos { height: auto; max-height: 6; padding: 0 1; }
    HistoryScreen #history-note { height: auto; max-height: 3; padding: 0 1; }
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
        self.where = SessionFilter()
        self._conn: Any = None
        #: Sessions marked with space for ``c``, in the order they were marked.
        self.marked: list[str] = []
        #: The listed sessions' cells (``COLUMNS``) and combinations, as last read.
        self.cells: dict[str, tuple[list[str], list[str]]] = {}
        #: Whether the table has its Combinations column (else the line under it).
        self.wide: bool | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(_TITLE), id="history-title")
            yield FilterField(placeholder="tag:gpu device:lightning.qubit since:2026-12-01 words",
                              id="history-filter")
            yield Static("", id="history-error")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="history-table")
            yield Static("", id="history-combos")
            yield Static("", id="history-note")
        yield KeyFooter(compact=True)

    def _db(self) -> Any:
        """One connection for the screen (each open of the database closes lost sessions)."""
        if self._conn is None:
            if self.db_factory is not None:
                self._conn = self.db_factory()
            else:
                from qtui.store.history_db import HistoryDB

                self._conn = HistoryDB()
        return self._conn

    def on_mount(self) -> None:
        self._load()
        self.query_one(DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        """The Combinations column comes or goes with the room for it."""
        if self.wide is not None and (self.wide or self._fits()):
            self._fill()  # the Combinations column comes, goes, or its lines change
        else:
            self._show_note()  # the line under the table is packed to the width

    def _load(self) -> None:
        """Fill the list from the database, through the filter; the cursor stays on its
        session where that is still listed."""
        from qtui.store.history_db import run_tally

        error = self.query_one("#history-error", Static)
        try:
            db = self._db()
            self.sessions = list(db.sessions(where=self.where))
            total = db.count_sessions() if self.where.active else len(self.sessions)
        except Exception as exc:  # noqa: BLE001 - boundary: shown in #history-error; the app goes on
            self.query_one(DataTable).clear()
            error.update(Text(one_line(f"history unavailable: {exc}")))
            return
        title = _TITLE
        if self.where.active:
            title += f"\nfilter: {self.where.text()} ({len(self.sessions)} of {total})"
        self.query_one("#history-title", Static).update(Text(visible(title)))
        if not total:
            error.update("no sessions recorded yet: runs started from qtui are recorded as they go")
        listed = {str(s.get("session_id", "")) for s in self.sessions}
        self.marked = [sid for sid in self.marked if sid in listed]  # deleted or filtered out
        self.cells = {}
        for s in self.sessions:
            sid = str(s.get("session_id", ""))
            # names from the recorded logs and the user: control characters escaped
            cells = [visible(self._mark_cell(sid)), visible(marks_text(s)), _when(s.get("started_t")),
                     visible(s.get("status", "")), visible(self._where(db, sid)), run_tally(s)]
            self.cells[sid] = (cells, [visible(c) for c in s.get("combos") or []])
        self._fill()

    def _combos_width(self) -> int:
        """The Combinations column's width, beside the others (the vertical scrollbar's
        room kept); 0 where its title or a name (with its comma) would not fit."""
        table: DataTable[Text] = self.query_one(DataTable)
        room = (self.size.width or self.app.size.width) - table.styles.scrollbar_size_vertical
        width = combos_room([c for c, _ in self.cells.values()], room, table.cell_padding)
        longest = max([cell_len(n) + 1 for _, names in self.cells.values() for n in names],
                      default=0)
        return width if width >= max(longest, cell_len(COMBOS[1])) else 0

    def _fits(self) -> bool:
        return self._combos_width() > 0

    def _fill(self) -> None:
        """The table from ``cells``: with the Combinations column, one name a line,
        where it fits; the cursor stays on its session where that is still listed."""
        table: DataTable[Text] = self.query_one(DataTable)
        keep = self._cursor_sid()
        width = self._combos_width()
        self.wide = width > 0
        table.clear(columns=True)
        for key, label in (*COLUMNS, COMBOS) if self.wide else COLUMNS:
            table.add_column(Text(label), key=key)
        for sid, (cells, combos) in self.cells.items():
            row = [Text(c) for c in cells]
            lines = packed(combos, width)
            if self.wide:
                row.append(Text("\n".join(lines)))
            table.add_row(*row, key=sid, height=max(1, len(lines)) if self.wide else 1)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))
        self._show_note()

    def _mark_cell(self, sid: str) -> str:
        return ("✓ " if sid in self.marked else "  ") + sid

    def action_toggle_mark(self) -> None:
        """``space``: mark the highlighted session for ``c`` (again: unmark it)."""
        sid = self._cursor_sid()
        if sid is None:
            return
        if sid in self.marked:
            self.marked.remove(sid)
        else:
            self.marked.append(sid)
        table: DataTable[Text] = self.query_one(DataTable)
        table.update_cell(sid, "sid", Text(visible(self._mark_cell(sid))))
        self.query_one("#history-error", Static).update("")

    def _cursor_sid(self) -> str | None:
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(key.value)

    def _cursor_session(self) -> dict[str, Any] | None:
        sid = self._cursor_sid()
        return next((s for s in self.sessions if str(s.get("session_id")) == sid), None)

    def _show_note(self) -> None:
        """Under the table: the highlighted session's combinations where the table has
        no column for them, and its note."""
        s = self._cursor_session()
        note = s.get("note") if s else None
        shown = self.query_one("#history-note", Static)
        shown.update(Text(visible(f"note: {note}") if note else ""))
        shown.display = bool(note)  # an empty line would only take the list's room
        line = self.query_one("#history-combos", Static)
        names = self.cells.get(str(s.get("session_id")), ([], []))[1] if s else []
        line.display = not self.wide and bool(names)
        if line.display:  # the Static's padding: one cell a side
            width = (self.size.width or self.app.size.width) - 2
            line.update(Text("\n".join(packed(names, width, lead="combinations: "))))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_note()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``/`` typed in the filter field is the field's."""
        return not (action == "filter" and isinstance(self.focused, Input))

    # filter -----------------------------------------------------------------------
    def action_filter(self) -> None:
        """``/``: the filter field, holding the filter in force."""
        field = self.query_one(FilterField)
        field.value = self.where.text()
        field.display = True
        self.set_focus(field)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "history-filter":
            return
        event.stop()
        try:
            self.where = parse_filter(event.value)
        except FilterError as exc:  # said; the field stays for fixing
            self.query_one("#history-error", Static).update(Text(visible(str(exc))))
            return
        self.query_one("#history-error", Static).update("")
        self.action_leave_filter()
        self._load()

    def action_leave_filter(self) -> None:
        self.query_one(FilterField).display = False
        self.set_focus(self.query_one(DataTable))

    # name, tags, note; delete ----------------------------------------------------
    def action_mark(self, field: str) -> None:
        """``n``/``t``/``o``: the name, tags and note dialog, on the field named."""
        from qtui.ui.screens.session_marks import SessionMarksScreen

        session = self._cursor_session()
        if session is None:
            return
        sid = str(session["session_id"])

        def save(marks: Any) -> None:
            if marks is None:
                return
            try:
                self._db().mark(sid, name=marks.name, note=marks.note, tags=marks.tags)
            except Exception as exc:  # noqa: BLE001 - boundary: shown in #history-error
                self.query_one("#history-error", Static).update(Text(one_line(f"not saved: {exc}")))
                return
            self._load()

        self.app.push_screen(SessionMarksScreen(session, field), save)

    def action_delete(self) -> None:
        """``d``: delete the highlighted session once the user says yes (not this app's)."""
        from qtui.store.history_db import delete_question
        from qtui.ui.screens.confirm import ConfirmScreen

        session = self._cursor_session()
        if session is None:
            return
        sid = str(session["session_id"])
        error = self.query_one("#history-error", Static)
        current = self.current() if self.current is not None else None
        if current is not None and current.session_id == sid:
            error.update(Text(visible(f"{sid} is this app's session: it is not deleted while it is open")))
            return

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            try:
                deleted = self._db().delete_session(sid)
            except Exception as exc:  # noqa: BLE001 - boundary: shown in #history-error
                error.update(Text(one_line(f"not deleted: {exc}")))
                return
            error.update("")
            self._load()
            # what went, its script output folder included (or why that stayed)
            self.app.notify(escape(visible(deleted.line(sid))), timeout=8,
                            severity="warning" if deleted.outputs_left else "information")

        # the question names the output folder: a path, never read as markup
        self.app.push_screen(ConfirmScreen(escape(visible(delete_question(session)))), answer)

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
        """``c``: the marked sessions in one chart (two or more, oldest first: A, B...);
        with none marked, the highlighted session (A) against this app's (B)."""
        from qtui.analysis.comparison import same_session
        from qtui.ui.screens.comparison import ComparisonScreen

        error = self.query_one("#history-error", Static)
        if len(self.marked) == 1:
            error.update("1 session marked: mark another with space, and c overlays their loss curves")
            return
        if self.marked:
            sides = self._marked_sides()
            if sides is not None:
                self.app.push_screen(ComparisonScreen(sides))
            return
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
        title = self._title(picked[0])
        self.app.push_screen(ComparisonScreen([(title, picked[1]), ("this session", current)]))

    def _title(self, sid: str) -> str:
        """``early baseline #gpu (2026-12-08 10:02)``: the session as the chart names it."""
        s = next((x for x in self.sessions if str(x.get("session_id")) == sid), {})
        marks = marks_text(s) if s else ""
        return " ".join(w for w in (sid, marks, f"({_when(s.get('started_t'))})" if s else "") if w)

    def _marked_sides(self) -> list[tuple[str, Summary]] | None:
        """The marked sessions' summaries, oldest first; None (said) when one cannot be read."""
        started = {str(s.get("session_id")): float(s.get("started_t") or 0) for s in self.sessions}
        sides = []
        for sid in sorted(self.marked, key=lambda x: started.get(x, 0.0)):
            try:
                summary = self._db().summary(sid)
            except Exception as exc:  # noqa: BLE001 - boundary: shown in #history-error
                self.query_one("#history-error", Static).update(Text(one_line(f"cannot open {sid}: {exc}")))
                return None
            sides.append((self._title(sid), summary))
        return sides

    def action_back(self) -> None:
        self.dismiss(None)
