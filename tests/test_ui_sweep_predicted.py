"""The sweep chart goes on past the measured sizes, dashed (issue 25, item 5): each
line's predicted continuation to the largest size + 2 and + 4, with the prediction's
90 % interval as a dotted bar, on an axis whose predicted sizes are bracketed.

The sweep is a recorded real one (``test_ui_data.sweep_events``); the predictions are
the app's own (``qtui.analysis.predictions``, off the UI thread)."""

from __future__ import annotations

from test_ui_data import fixed_caps, sweep_events
from test_ui_run import wait_for

from qtui.ui.app import QtuiApp
from qtui.ui.widgets.graph import LineGraph


async def test_the_chart_draws_each_lines_prediction_dashed_with_its_interval() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=sweep_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, app.panels_drawn, 10)
        await pilot.press("7")
        wall = app.query_one("#graph-time_per_step", LineGraph)
        await wait_for(pilot, lambda: len(wall.x_ticks or []) == 6, 30)
        assert wall.x_ticks == ["2", "4", "6", "8", "(10)", "(12)"]
        measured = [s for s in wall.series if not s.dashed]
        guessed = [s for s in wall.series if s.dashed]
        assert len(measured) == 3 and len(guessed) == 3
        for m, g in zip(measured, guessed, strict=True):
            assert g.name == f"{m.name} (predicted)" and g.color == m.color
            assert all(v != v for v in m.values[4:]), m  # nothing measured there
            assert g.values[3] == m.values[3]  # joined at the last measured size
            assert all(v == v for v in g.values[4:]) and all(v != v for v in g.values[:3])
            for (low, high), v in zip(g.band[4:], g.values[4:], strict=True):
                assert low <= v <= high and high > low, (g.name, low, v, high)
        # drawn: past the last measured size, the dashed lines and bars are on the plot
        def plot(series: list) -> list[str]:  # type: ignore[type-arg]
            wall.set_series(series)
            return ["".join(seg.text for seg in strip) for strip in wall.build_strips(100, 12)[:-1]]

        with_guess, without = plot(measured + guessed), plot(measured)
        cols = (100 - wall.GUTTER) * 2  # braille dots across; 8 qubits is point 3 of 0..5
        cut = wall.GUTTER + (round(3 * (cols - 1) / 5) + 1) // 2 + 1
        assert [r[cut:] for r in with_guess] != [r[cut:] for r in without]
        assert not any(r[cut:].strip() for r in without)  # nothing measured there
