"""The results tab laid out for 80×24 and 200×50 (issue 10, item 15): the queue
as tall as its rows, the results table and the recommendation given the room."""

from __future__ import annotations

import pytest
from test_ui_data import fixed_caps, session_events

from qtui.ui.app import QtuiApp
from qtui.ui.widgets.recommend_panel import RecommendationPanel
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_queue import RunQueue


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_results_tab_sizes_the_queue_to_its_rows(size: tuple[int, int]) -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await pilot.pause(0.5)
        queue = app.query_one("#queue", RunQueue)
        table = app.query_one("#results-table", ResultsTable)
        box = app.query_one("#recommend-box")
        # every queue row shows (header + 3 rows + border), and no more room than that
        assert queue.region.height <= queue.row_count + 4, queue.region  # +1: a scrollbar
        assert queue.max_scroll_y == 0
        assert table.max_scroll_y == 0, "every combination shows"
        # the recommendation fills the rest: it ends where the footer starts
        assert box.region.bottom >= size[1] - 1 - 1
        lines = app.query_one(RecommendationPanel).lines
        assert lines and box.region.height >= min(len(lines) + 2, 4)
