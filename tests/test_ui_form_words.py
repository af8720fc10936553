"""Advice in the app names the form's fields (issue 23, item 8): the TUI's advice said
"use --repeat 3", a flag of the command line the app has none of.  A real app on a
recorded real sweep of single runs (too few to tell: the advice to repeat)."""

from __future__ import annotations

from test_ui_data import fixed_caps, sweep_events
from test_ui_run import wait_for
from textual.widgets import Static

from qtui.ui.app import QtuiApp
from qtui.ui.widgets.recommend_panel import RecommendationPanel


async def test_the_apps_advice_says_repeats_not_the_cli_flag() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=sweep_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, app.panels_drawn, 10)
        await pilot.press("3")
        panel = app.query_one(RecommendationPanel)
        await wait_for(pilot, lambda: bool(panel.lines), 10)
        shown = str(panel.render())
        assert any("--repeat" in line for line in panel.lines)  # the analysis's own words
        assert "repeats 3" in shown and "--repeat" not in shown, shown
        await pilot.press("7")
        await pilot.pause(0.3)
        crossings = str(app.query_one("#sweep-crossovers", Static).render())
        assert "repeats 3" in crossings and "--repeat" not in crossings, crossings
