"""Keys sent together land where the keys before them left the app (issue 23, item 2).

A terminal over SSH delivers what was typed in one read: ``3`` then ``enter`` arrive
before the app has handled the ``3``.  Each key must act on the state the keys before
it left: the tab switched and its widget focused, the pushed screen up and focused.
Before, a tab key moved focus only after the next refresh and a pushed screen took
keys before its table had focus, so the ``enter`` after ``3`` was lost, and the
``down`` after ``h`` moved nothing.

The real app at 80x24 on the recorded real session (``real_events``), its history a
real SQLite database holding that session and a copy of it; every burst goes through
``ui_helpers.burst`` (all keys queued before the app handles one).
"""

from __future__ import annotations

import time
from pathlib import Path

from test_history_features import copied, recorded
from test_ui_data import fixed_caps
from textual.widgets import Input, TabbedContent
from ui_helpers import burst, settle

from qtui.core import events as ev
from qtui.store.history_db import HistoryDB
from qtui.ui.app import QtuiApp
from qtui.ui.screens.history import HistoryScreen, SessionResultsScreen
from qtui.ui.screens.run_detail import RunDetailScreen
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_queue import RunQueue

SIZE = (80, 24)


def make_app(events: list[ev.Event], db: Path | None = None) -> QtuiApp:
    return QtuiApp(
        capabilities=fixed_caps(), events=events, gpu=False, record_history=False,
        persist_theme=False, history_factory=(lambda: HistoryDB(db)) if db else None,
    )


async def built(pilot: object, app: QtuiApp) -> None:
    """Every tab's content built and drawn (they are built after the first frame)."""
    end = time.monotonic() + 60
    while not (app.panels_drawn() and app.query("#queue") and app.query("#mon-queue")):
        assert time.monotonic() < end, "the tabs were not built in 60 s"
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


def queue_ids(app: QtuiApp, queue_id: str) -> list[str]:
    queue = app.screen_stack[0].query_one(f"#{queue_id}", RunQueue)
    return [str(queue.coordinate_to_cell_key((i, 0))[0].value) for i in range(queue.row_count)]


def detail_of(app: QtuiApp) -> str:
    assert isinstance(app.screen, RunDetailScreen), f"no run detail: {app.screen}, {app.focused}"
    return app.screen.title_text


async def test_a_tab_key_then_enter_in_one_read_opens_the_run_detail(
    real_events: list[ev.Event],
) -> None:
    """``3 enter``: the results tab's run queue has focus before ``enter`` is looked at;
    ``2 down enter`` likewise on the monitor's queue; then the results table (tab to it)."""
    app = make_app(real_events)
    async with app.run_test(size=SIZE) as pilot:
        await built(pilot, app)
        assert app.query_one(TabbedContent).active == "monitor"
        await burst(pilot, "3", "enter")
        first = queue_ids(app, "queue")[0]
        assert first in detail_of(app)
        await burst(pilot, "escape", "2", "down", "enter")
        assert queue_ids(app, "mon-queue")[1] in detail_of(app)
        await burst(pilot, "escape", "3", "tab", "enter")  # the results table: a combination
        table = app.screen_stack[0].query_one(ResultsTable)
        row = table.row_at(0)
        assert row is not None and detail_of(app) == row.label


async def test_keys_after_the_key_that_opens_a_screen_act_on_that_screen(
    real_events: list[ev.Event],
) -> None:
    """``3 enter down down``: the downs scroll the run detail ``enter`` opened, not the
    queue behind it; ``escape`` then closes it and ``down`` moves the queue again."""
    app = make_app(real_events)
    async with app.run_test(size=SIZE) as pilot:
        await built(pilot, app)
        await burst(pilot, "3", "enter", "down", "down")
        assert isinstance(app.screen, RunDetailScreen)
        assert app.screen.query_one("#detail-scroll").scroll_y == 2
        queue = app.screen_stack[0].query_one("#queue", RunQueue)
        assert queue.cursor_row == 0
        await burst(pilot, "escape", "down")
        assert app.screen is app.screen_stack[0] and queue.cursor_row == 1


async def test_history_keys_sent_with_h_act_on_the_history_list(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    """``h down enter``: the history's list has focus before ``down``; ``enter`` opens the
    second session listed (newest first)."""
    db = tmp_path / "h.sqlite3"
    recorded(db, real_events, copied(real_events, "second-session", days=1))
    app = make_app(real_events, db)
    async with app.run_test(size=SIZE) as pilot:
        await built(pilot, app)
        await burst(pilot, "h", "down", "enter")
        assert isinstance(app.screen, SessionResultsScreen), (app.screen, app.focused)
        history = app.screen_stack[1]
        assert isinstance(history, HistoryScreen)
        second = str(history.sessions[1]["session_id"])
        assert app.screen.session_id == second
        await burst(pilot, "escape", "escape", "3", "enter")  # back to the main screen's tab
        assert queue_ids(app, "queue")[0] in detail_of(app)


async def test_escape_then_a_tab_key_then_enter_from_a_field(real_events: list[ev.Event]) -> None:
    """From a text field, ``escape 3 enter``: out of the field, to the results tab, and
    its queue's first run opened (as three keys typed one by one would)."""
    app = make_app(real_events)
    async with app.run_test(size=SIZE) as pilot:
        await built(pilot, app)
        await burst(pilot, "1")
        field = app.screen_stack[0].query(Input).first()
        field.focus()
        await settle(pilot)
        assert app.focused is field
        await burst(pilot, "escape", "3", "enter")
        assert queue_ids(app, "queue")[0] in detail_of(app)


async def test_a_tab_key_before_its_tab_is_built_waits_for_it(real_events: list[ev.Event]) -> None:
    """Keys typed while ``qtui`` starts: ``3 enter`` in the first read, before the
    results tab's content is built (after the first frame), still open the detail."""
    app = make_app(real_events)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.query("#queue"), "the results tab was built before the first frame"
        await burst(pilot, "3", "enter")
        assert queue_ids(app, "queue")[0] in detail_of(app)

