"""A re-attached cluster session's options reach the setup form even when the form does
not exist yet (issue 22, item 8; issue 24's lazy tabs).

An app re-attaching opens on the Monitor tab, so the Setup tab, its form included, is
built after the first frame.  The options were put in the form once, at the re-attach,
and lost when the form was not there yet: the full suite saw the setup tab say
``executor local`` for a re-attached SLURM session.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_data import fixed_caps
from textual.widgets import Input
from ui_helpers import settle

from qtui.cluster.jobs_folder import Manifest
from qtui.core import events as ev
from qtui.ui import reattach
from qtui.ui.app import QtuiApp


async def test_options_shown_before_the_setup_form_exists_reach_it(
    real_events: list[ev.Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    app = QtuiApp(capabilities=fixed_caps(), events=real_events, gpu=False,
                  record_history=False, persist_theme=False)  # it has runs: opens on Monitor
    manifest = Manifest(session_id="abc123", cluster="slurm",
                        options={"time_limit_min": 7, "exclusive": False, "partition": "debug"})
    async with app.run_test(size=(120, 40)) as pilot:
        assert not app.query("#field-executor"), "the setup form is built after the first frame"
        reattach._show_options(app, manifest)  # what a re-attach does at once
        for _ in range(200):
            if app.query("#field-executor"):
                break
            await settle(pilot)
        await settle(pilot)
        got = {k: app.query_one(f"#field-{k}", Input).value for k in ("executor", "time_limit", "exclusive", "partition")}
    assert got == {"executor": "slurm", "time_limit": "7", "exclusive": "no", "partition": "debug"}
