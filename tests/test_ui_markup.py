"""Text that comes from a run is shown literally in the TUI, never parsed as markup.

Issue 11, item 4: an exception message such as ``[/oops]`` crashed rich, and
``[enforce fail at alloc_cpu.cpp:127]`` silently vanished.  The same text in a
failed run's error, a warning and a refusal reason goes through the real app:
every tab is drawn, and the text reads as written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_one_truth import events as finished_events
from test_ui_data import fixed_caps
from ui_helpers import screenshots_of_tabs

from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams
from qtui.ui.app import QtuiApp

MESSAGE = "[/oops] broke: [enforce fail at alloc_cpu.cpp:127] [bold]not bold[/bold]"


def markup_events() -> list[ev.Event]:
    out = finished_events()[:-1]  # a finished session without its end
    spec = RunSpec(device="lightning.qubit", diff_method="adjoint",
                   params=WorkloadParams(epochs=1), run_id="bad")
    out += [
        ev.RunRefused(device="[red]x", diff_method="backprop", reason=f"refused: {MESSAGE}"),
        ev.RunQueued(run_id="bad", spec=spec.to_dict()),
        ev.RunStarted(run_id="bad", spec=spec.to_dict(), pid=1, host="h", versions={}),
        ev.WarningSeen(run_id="bad", category="UserWarning", message=MESSAGE,
                       filename="[link=x]f.py", lineno=3, count=2, first_t=1.0, last_t=2.0),
        ev.RunFailed(run_id="bad", exc_type="RuntimeError", message=MESSAGE,
                     traceback=f"Traceback...\nRuntimeError: {MESSAGE}"),
        ev.SessionFinished(session_id="truth"),
    ]
    return out


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))


async def test_run_text_with_markup_is_shown_as_written() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=markup_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(200, 50)) as pilot:
        seen = await screenshots_of_tabs(pilot)
        text = "\n".join(seen).replace("&#160;", " ")
        assert "[enforce fail at alloc_cpu.cpp:127]" in text  # kept, brackets and all
        assert "[/oops] broke" in text and "[bold]not bold[/bold]" in text
        assert app.is_running  # nothing crashed
