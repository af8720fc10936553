"""The run queue's headers at 80×24 (issue 23, item 7): ``Elapsed`` was cut to
``Elap`` once a run's state said ``✓ finished ⚠ contended``, on the results tab of
the real app.  The recorded real session, with one run marked contended as the
sampler marks a run that trained beside a busy node."""

from __future__ import annotations

import msgspec
import pytest
from test_ui_data import fixed_caps
from test_ui_run import wait_for
from textual.geometry import Region
from textual.widget import Widget

from qtui.core import events as ev
from qtui.report.results import CONTENDED_MARK
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.run_queue import RunQueue


def _drawn(widget: Widget) -> list[str]:
    """The widget's lines as the terminal shows them (cut where its room ends)."""
    size = widget.outer_size
    strips = widget.render_lines(Region(0, 0, size.width, size.height))
    return ["".join(seg.text for seg in strip) for strip in strips]


def _contended(events: list[ev.Event]) -> list[ev.Event]:
    out: list[ev.Event] = []
    for e in events:
        if isinstance(e, ev.RunFinished) and e.run_id == "r2":
            e = msgspec.structs.replace(e, contended=True, contention_cores=1.2,
                                        contention_cores_max=1.9)
        out.append(e)
    return out


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_queues_elapsed_header_is_whole(
    real_events: list[ev.Event], size: tuple[int, int]
) -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=_contended(real_events), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, app.panels_drawn, 10)
        await pilot.press("3")
        queue = app.query_one("#queue", RunQueue)
        await wait_for(pilot, lambda: queue.row_count == 4 and queue.outer_size.width > 0, 10)
        await pilot.pause(0.1)
        lines = _drawn(queue)
        header = lines[1]  # under the panel's title (its border)
        assert "Elapsed" in header.strip("│").split(), lines
        assert "Run" in header and "Combination" in header and "State" in header, lines
        contended = next(line for line in lines if line.strip("│ ").startswith("r2 "))
        assert "✓ finished ⚠" in contended, lines  # the word: in the legend on the border
        assert "⚠ contended" in lines[-1], lines
        if size[0] >= 200:
            assert "Batch loss" in header, lines


def _row_line(lines: list[str], run_id: str) -> str:
    return next(line for line in lines if line.strip("│ ").startswith(f"{run_id} "))


@pytest.mark.parametrize(("tab", "queue_id", "size"), [
    ("3", "queue", (80, 24)), ("3", "queue", (200, 50)),
    # the monitor shows its queue from 120 columns on, in two thirds of the width
    ("2", "mon-queue", (120, 40)), ("2", "mon-queue", (200, 50)),
])
async def test_a_contended_runs_progress_is_whole(
    real_events: list[ev.Event], tab: str, queue_id: str, size: tuple[int, int]
) -> None:
    """``r2 default.qubit+backprop #2 ✓ finished ⚠ contended 1.6s ep 1/1 b 40/``: the
    Progress column was cut at the edge.  Every run's Combination, State, Elapsed and
    Progress are whole on its line, and the mark's legend is said once, whole, on the
    queue's border."""
    app = QtuiApp(capabilities=fixed_caps(), events=_contended(real_events), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, app.panels_drawn, 10)
        await pilot.press(tab)
        queue = app.query_one(f"#{queue_id}", RunQueue)
        await wait_for(pilot, lambda: queue.row_count == 4 and queue.outer_size.width > 0, 10)
        await pilot.pause(0.1)
        lines = _drawn(queue)
        for i in range(queue.row_count):
            run, combo, state, elapsed, progress, *_ = (str(c) for c in queue.get_row_at(i))
            line = _row_line(lines, run)
            for cell in (combo, state, elapsed, progress):
                assert cell and cell in line, (cell, lines)
        assert "⚠" in _row_line(lines, "r2"), lines
        assert "⚠" not in _row_line(lines, "r1"), lines
        legend = f"{CONTENDED_MARK} contended"
        assert legend in str(queue.border_subtitle), queue.border_subtitle
        assert str(queue.border_subtitle) in lines[-1], lines
