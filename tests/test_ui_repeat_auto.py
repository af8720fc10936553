"""The form's repeats field takes ``auto`` (issue 9, item 2): passes until each mean is known.

A real run through the real app: one combination, ``repeats: auto``; the
planner adds interleaved passes (ids and repeat numbers counting on) until
its target or ``--max-repeats``' default is met.  A loose target keeps it short.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_run import fill, wait_for, wait_for_caps

from qtui.engine.forkserver import ProcessExecutor
from qtui.session import adaptive
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.run_form import RunForm, parse_field


def test_the_field_accepts_auto_and_still_refuses_words() -> None:
    from qtui.core.config import ConfigError

    assert parse_field("repeat", " Auto ") == "auto"
    assert parse_field("repeat", "3") == 3
    with pytest.raises(ConfigError, match="repeat"):
        parse_field("repeat", "automatic")


async def test_repeats_auto_adds_passes_in_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    # a target met as soon as 3 runs exist keeps the test short
    monkeypatch.setattr(adaptive, "DEFAULT_TARGET_CI", 10.0)
    app = QtuiApp(gpu=False, record_history=False, executor=warm_executor)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="1", samples="20", batch_size="5", repeat="auto")
        await pilot.pause()
        assert not app.query_one(RunForm).errors
        app.set_focus(None)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: len(app.state.runs()) >= 3
            and all(r.state == "finished" for r in app.state.runs())
            and not app.control.active,
            180,
        )
        runs = app.state.runs()
        assert len(runs) == 3  # the minimum before an interval is trusted, then target met
        assert [r.run_id for r in runs] == ["r1", "r2", "r3"]
        assert [int(r.spec["repeat_index"]) for r in runs] == [0, 1, 2]

