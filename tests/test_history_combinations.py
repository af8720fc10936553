"""The history's list keeps its combinations' names whole (issue 23, "tables that keep
their names"): at 80 columns the Combinations column showed ``default.qubit+ba`` and the
table scrolled sideways.

A real history: the recorded session (``real_events``: three combinations, one run
failed) and a real ``qtui exec`` session (a script run, named by its script and what it
ran on, beside a forum run) and a real session of six tiny runs, one per combination,
as a user ticks a row and a half of the grid (their names joined did not fit 200
columns either).  The app's history screen runs in ``App.run_test()`` at
80×24 and 200×50; the cursor visits each session with keys sent as a terminal sends
them (``ui_helpers.burst``), and the screen is read as drawn.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import run_session, tiny
from test_history_overlay import Host, exec_session, record  # noqa: F401 - a fixture
from test_ui_cut_text import screen_lines, wait_for
from textual.widgets import DataTable
from ui_helpers import burst, settle

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.store.history_db import HistoryDB
from qtui.ui.screens.history import HistoryScreen

COMBINATIONS = [("default.qubit", m) for m in ("backprop", "adjoint", "parameter-shift", "finite-diff")]
COMBINATIONS += [("lightning.qubit", m) for m in ("adjoint", "parameter-shift")]


@pytest.fixture(scope="module")
def six(warm_executor: ProcessExecutor) -> list[ev.Event]:
    """A real session of one tiny run per combination (``COMBINATIONS``)."""
    specs = [RunSpec(device, method, tiny(epochs=1), run_id=f"r{i}")
             for i, (device, method) in enumerate(COMBINATIONS, 1)]
    _, rec = run_session(specs, executor=warm_executor, session_id="six")
    ends = {e.run_id: e.type for e in rec.events if e.type in ev.TERMINAL_TYPES}
    assert set(ends.values()) == {"run_finished"}, ends
    return list(rec.events)


def _shows(app: Host, texts: list[str]) -> bool:
    """Whether every one of ``texts`` is on one line of the screen as drawn."""
    lines = screen_lines(app)
    return all(any(text in line for line in lines) for text in texts)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_every_combination_name_is_whole_in_the_history(
    real_events: list[ev.Event], exec_session: list[ev.Event], six: list[ev.Event],  # noqa: F811
    tmp_path: Path,
    size: tuple[int, int],
) -> None:
    path = tmp_path / "h.sqlite3"
    record(path, real_events, exec_session, six)
    with HistoryDB(path) as db:
        combos = {str(s["session_id"]): list(s["combos"]) for s in db.sessions()}
    assert "hybrid_train.py --steps 3" in combos["with-script"], combos  # the script run's name
    assert len(combos["six"]) == len(COMBINATIONS), combos
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = screen.query_one(DataTable)
        listed = [str(row.value) for row in table.rows]
        assert sorted(listed) == sorted(combos), listed
        for i, sid in enumerate(listed):
            if i:
                await burst(pilot, "down")
            await wait_for(pilot, lambda i=i, sid=sid: table.cursor_row == i
                           and _shows(app, combos[sid]), "the names drawn", 60)
            lines = screen_lines(app)
            assert table.cursor_row == i, lines
            assert any(sid in line for line in lines), (sid, lines)
            for name in combos[sid]:
                assert any(name in line for line in lines), (name, lines)
            # nothing is off the table's right edge: it does not scroll sideways
            assert table.virtual_size.width <= table.scrollable_content_region.width, lines


def _copies(events: list[ev.Event], n: int) -> list[list[ev.Event]]:
    """The recorded session ``n`` times, under ids ``s00-…``, an hour apart."""
    out = []
    for k in range(n):
        session = []
        for e in events:
            d = e.to_dict()
            if "session_id" in d:
                d["session_id"] = f"s{k:02d}-{d['session_id']}"
            for key in ("t", "first_t", "last_t"):
                if isinstance(d.get(key), float):
                    d[key] += 3600.0 * k
            session.append(ev.from_dict(d))
        out.append(session)
    return out


async def test_the_names_stay_on_screen_under_a_long_list(
    real_events: list[ev.Event], tmp_path: Path,
) -> None:
    """More sessions than the screen's lines: the line under the table that names the
    highlighted session's combinations is not pushed off the screen."""
    path = tmp_path / "h.sqlite3"
    record(path, *_copies(real_events, 30))
    with HistoryDB(path) as db:
        (names,) = {tuple(s["combos"]) for s in db.sessions()}
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, *["down"] * 29)
        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.cursor_row == 29 and _shows(app, list(names)),
                       "the names drawn", 60)
        lines = screen_lines(app)
        assert table.cursor_row == 29, lines
        assert any("s00-test-016ed4e2" in line for line in lines), lines
        for name in names:
            assert any(name in line for line in lines), (name, lines)


async def test_the_combinations_follow_a_resize(real_events: list[ev.Event], tmp_path: Path) -> None:
    """200 columns: a Combinations column; 80: the line under the table; 200 again: the
    column back, and every name whole on the screen each time."""
    path = tmp_path / "h.sqlite3"
    record(path, real_events)
    with HistoryDB(path) as db:
        (session,) = db.sessions()
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(200, 50)) as pilot:
        table = screen.query_one(DataTable)
        for width, column in ((200, True), (80, False), (200, True)):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            await wait_for(pilot, lambda c=column: ("combos" in table.columns) is c
                           and _shows(app, session["combos"]), f"{width} columns drawn", 60)
            lines = screen_lines(app)
            assert ("combos" in table.columns) is column, lines
            assert any(line.lstrip().startswith("combinations: ") for line in lines) is not column
            for name in session["combos"]:
                assert any(name in line for line in lines), (width, name, lines)
