"""Session bookkeeping the TUI shows (issue 10, items 7, 8, 12): repeat numbers
across starts, running/queued/done counted apart, ``QTUI_NO_HISTORY`` honoured."""

from __future__ import annotations

import pytest
from test_ui_data import fixed_caps

from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams
from qtui.session.control import SessionController
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.run_queue import RunQueue
from qtui.ui.widgets.status_line import StatusLine


def make_app(**kwargs: object) -> QtuiApp:
    kwargs.setdefault("capabilities", fixed_caps())
    kwargs.setdefault("gpu", False)
    kwargs.setdefault("persist_theme", False)
    return QtuiApp(**kwargs)  # type: ignore[arg-type]


def test_the_same_combination_started_twice_is_repeat_1_then_2() -> None:
    control = SessionController(lambda e: None)
    spec = RunSpec("default.qubit", "backprop", WorkloadParams(epochs=1))
    first = control.number([spec])
    second = control.number([spec, RunSpec("default.qubit", "adjoint", WorkloadParams(epochs=1))])
    assert [s.run_id for s in first + second] == ["r1", "r2", "r3"]
    assert [s.repeat_index for s in first + second] == [0, 1, 0]
    # other parameters: a different point, its own repeats
    other = control.number([RunSpec("default.qubit", "backprop", WorkloadParams(epochs=2))])
    assert other[0].repeat_index == 0


async def test_queue_and_legend_number_repeats_across_starts() -> None:
    app = make_app(record_history=False)
    spec = RunSpec("default.qubit", "backprop", WorkloadParams(epochs=1))
    numbered = app.control.number([spec]) + app.control.number([spec])
    async with app.run_test(size=(120, 40)) as pilot:
        for s in numbered:
            app.feed.push(ev.RunQueued(run_id=s.run_id, spec=s.to_dict()))
        await pilot.press("3")
        await pilot.pause(0.5)
        queue = app.query_one("#queue", RunQueue)
        labels = [str(queue.get_row_at(i)[1]) for i in range(queue.row_count)]
        assert labels == ["default.qubit+backprop #1", "default.qubit+backprop #2"]


async def test_queued_runs_are_not_counted_as_active() -> None:
    app = make_app(record_history=False)
    spec = RunSpec("default.qubit", "backprop", WorkloadParams(epochs=1))
    numbered = app.control.number([spec, spec, spec])
    async with app.run_test(size=(120, 40)) as pilot:
        for s in numbered:
            app.feed.push(ev.RunQueued(run_id=s.run_id, spec=s.to_dict()))
        app.feed.push(ev.RunLaunched(run_id="r1", pid=1))
        await pilot.pause(0.3)
        line = str(app.query_one(StatusLine).render())
        assert "1 running · 2 queued · 0 done" in line and "active" not in line
        assert app._unfinished() == "1 running, 2 queued"


def test_qtui_no_history_is_honoured_by_the_tui(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    app = make_app()
    assert app.record_history is False and app.control.record is None
    monkeypatch.delenv("QTUI_NO_HISTORY")
    app = make_app()
    assert app.record_history is True and app.control.record is not None
