"""The TUI's half of "one figure, one string" (tests/test_one_truth.py has the other views):
the same summary, fed to the real app and to the history screen, shows the strings
``qtui.core.units`` writes: the results table, the recommendation panel, the memory
panel (MiB, not MB) and a saved session's results table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_one_truth import EXPECTED, events
from test_ui_data import fixed_caps
from textual.app import App
from textual.widgets import DataTable

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import units
from qtui.ui.app import QtuiApp
from qtui.ui.screens.history import SessionResultsScreen
from qtui.ui.widgets.phases_panel import PhasesPanel
from qtui.ui.widgets.recommend_panel import RecommendationPanel
from qtui.ui.widgets.results_table import ResultsTable

TABLE_KEYS = ("backprop mean ± σ", "adjoint mean ± σ", "backprop peak RSS", "adjoint peak RSS",
              "accuracy", "loss", "backprop ran on", "adjoint ran on", "device time per step")


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))


def table_text(table: DataTable[Any]) -> str:
    return "\n".join(
        " | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)
    )


def check(view: str, text: str, keys: tuple[str, ...]) -> None:
    missing = [f"{k} ({EXPECTED[k]!r})" for k in keys if EXPECTED[k] not in text]
    assert not missing, f"{view} lacks {missing}:\n{text}"


async def test_live_panels_show_the_units_strings() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=events(), gpu=False, record_history=False,
                  persist_theme=False)
    async with app.run_test(size=(200, 50)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.panels_drawn():
                break
        check("TUI results table", table_text(app.query_one(ResultsTable)), TABLE_KEYS)
        rec = "\n".join(app.query_one(RecommendationPanel).lines)
        check("TUI recommendation", rec, ("backprop mean ± σ", "adjoint peak RSS"))
        memory = str(app.query_one("#mem-stats").render())
        assert units.memory(310_000_000) in memory and " MB" not in memory, memory
        # the phase share reads as in the console and the exports ("1.250 ms (12.4 %)")
        phases = str(app.query_one(PhasesPanel).render())
        assert EXPECTED["PennyLane forward per step"].split("(")[1].rstrip(")") in phases, phases


async def test_history_screen_shows_the_units_strings() -> None:
    summary = SessionSummary()
    for e in events():
        summary.apply(e)
    screen = SessionResultsScreen("truth", document(summary))

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test(size=(200, 40)) as pilot:
        await pilot.pause(0.2)
        check("history screen", table_text(screen.query_one(ResultsTable)), TABLE_KEYS)
