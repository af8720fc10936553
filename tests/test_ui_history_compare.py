"""The history screen compares a past session with the current one (issue 4.3)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import DataTable, Static

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core.summary_schema import Summary
from qtui.store.history_db import HistoryDB
from qtui.ui.screens.comparison import ComparisonScreen
from qtui.ui.screens.history import HistoryScreen


def fold(events: list[ev.Event]) -> Summary:
    s = SessionSummary()
    for e in events:
        s.apply(e)
    return document(s)


class Host(App[None]):
    def __init__(self, screen: HistoryScreen) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


async def test_compare_past_session_with_current(real_events: list[ev.Event], tmp_path: Path) -> None:
    db_path = tmp_path / "h.sqlite3"
    db = HistoryDB(db_path)
    for e in real_events:
        db.record(e)
    current = fold(real_events)
    current.session_id = "this-session"  # another session: one compared with itself is refused
    # B is A with 10 s added to every training time: far slower, but the real
    # session has fewer than 3 runs per combination, so the verdict is too few to tell.
    for r in current.results:
        if r.times and r.mean is not None:
            r.times = [t + 10.0 for t in r.times if t is not None]
            r.mean = r.mean + 10.0
    screen = HistoryScreen(lambda: HistoryDB(db_path), current=lambda: current)
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.2)
        assert screen.query_one(DataTable).row_count == 1
        await pilot.press("c")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ComparisonScreen)
        table = app.screen.query_one(DataTable)
        finished = [r for r in current.results if r.times]
        assert table.row_count == len(current.results)
        speeds = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert sum(1 for v in speeds.values() if v.startswith("too few runs to tell (n=")) == len(
            finished)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HistoryScreen)


async def test_compare_needs_a_finished_run(real_events: list[ev.Event], tmp_path: Path) -> None:
    db_path = tmp_path / "h.sqlite3"
    db = HistoryDB(db_path)
    for e in real_events:
        db.record(e)
    screen = HistoryScreen(lambda: HistoryDB(db_path), current=lambda: document(SessionSummary()))
    app = Host(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("c")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HistoryScreen)
        assert "nothing to compare yet" in str(screen.query_one("#history-error", Static).render())
