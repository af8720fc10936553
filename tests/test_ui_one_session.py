"""One app session is one session everywhere (issue 23, item 5): its id, its runs and
its export are the same object in the history, the export and the app.

Before: every Start in the app began a supervisor session of its own id, so one app
session exported as ``qtui-<id>.json`` with r1–r9 appeared in ``qtui history`` as
four sessions, the exported id holding only the last start's runs.  Real runs (the
shared warm fork server), a real history database, real key presses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ui_run import TESTS, fill, wait_for, wait_for_caps

from qtui.engine.forkserver import ProcessExecutor
from qtui.store.history_db import DB_NAME, HistoryDB
from qtui.ui.app import QtuiApp


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHONPATH", str(TESTS))


async def test_two_starts_in_one_app_are_one_session_in_history_and_export(
    tmp_path: Path, warm_executor: ProcessExecutor
) -> None:
    app = QtuiApp(gpu=False, executor=warm_executor, record_history=True, persist_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="1", samples="20", batch_size="5", workload="qtui_test_workload:build")
        await pilot.pause()
        for n in (1, 2):
            app.set_focus(None)
            await pilot.press("1", "ctrl+r")  # from the setup tab (a start moves to monitor)
            await wait_for(
                pilot,
                lambda n=n: len(app.state.runs()) == n
                and all(r.state == "finished" for r in app.state.runs())
                and not app.control.active,
            )
        session_id = app.state.summary.session["session_id"]
        paths = app.export_to(tmp_path / "export")
    exported = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert exported["session_id"] == session_id
    assert [r["run_id"] for r in exported["runs"]] == ["r1", "r2"]
    with HistoryDB(tmp_path / "data" / DB_NAME) as db:
        (row,) = db.sessions()
        assert row["session_id"] == session_id, row
        assert row["n_runs"] == 2 and row["states"] == {"finished": 2}, row
        assert row["status"] == "finished", row
        assert [r.run_id for r in db.summary(session_id).runs] == ["r1", "r2"]
