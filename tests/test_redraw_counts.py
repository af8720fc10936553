"""What a live event redraws, counted in the real app (issue 24, item 4: lag p99 <= 8 ms
while a run trains).  A layout re-arranges and repaints the whole screen (~10-20 ms at
200×50), a redraw of a panel whose figures did not move is a repaint for nothing: each
test feeds events of a run that trains, waits until every panel shows them, and counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from test_ui_cpu import percpu, running_session
from test_ui_data import T0, fixed_caps
from textual.pilot import Pilot

from qtui.core import events as ev
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.cpu_panel import CpuPanel
from qtui.ui.widgets.graph import LineGraph
from qtui.ui.widgets.loss_panel import LossPanel
from qtui.ui.widgets.memory_panel import MemoryPanel
from qtui.ui.widgets.phases_panel import PhasesPanel
from qtui.ui.widgets.threadpools_panel import ThreadPoolsPanel


async def until(pilot: Pilot[int], cond: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        await pilot.pause(0.02)


def count_calls(obj: Any, name: str) -> list[int]:
    """Count calls of ``obj.name`` (the real method still runs)."""
    calls = [0]
    real = getattr(obj, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    setattr(obj, name, counted)
    return calls


async def monitor(pilot: Pilot[int], app: QtuiApp) -> None:
    """The Monitor tab shown, every panel drawn and the screen laid out."""
    await pilot.press("2")
    await until(pilot, lambda: app.panels_drawn() and app.query(PhasesPanel), "panels drawn")
    await until(pilot, app.panels_drawn, "every tab's panels drawn")
    await pilot.pause(0.3)


def sample(k: int, rss: int = 100_000_000, grow: int = 1) -> ev.Sample:
    return ev.Sample(run_id="r2", percpu=percpu(4, k), rss=rss + grow * k, peak_rss=rss + 10, threads=4,
                     peak_threads=4, cpu_s=1.0 + k, wall_s=1.0 + k, cores_in_use=1.0,
                     t=T0 + 300 + k)


def new_app() -> QtuiApp:
    return QtuiApp(capabilities=fixed_caps(), events=running_session(4), gpu=False,
                   record_history=False, persist_theme=False)


async def feed(pilot: Pilot[int], app: QtuiApp, events: list[ev.Event]) -> None:
    """Each event on its own tick, as a run sends them, and drawn before the next."""
    for event in events:
        applied = app.state.events_applied
        app.feed.push(event)
        await until(pilot, lambda a=applied: app.state.events_applied > a, "event applied")
        await until(pilot, app.panels_drawn, "panels drawn")


async def test_a_batch_redraws_the_loss_not_the_cpu_bars() -> None:
    """A batch (10-100 a second) moves the loss and the queue's progress; the CPU bars
    change with a sample only: they were redrawn at every batch (they watched ``runs``)."""
    app = new_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await monitor(pilot, app)
        cpu = count_calls(app.query_one(CpuPanel), "refresh_from")
        loss = count_calls(app.query_one(LossPanel), "refresh_from")
        await feed(pilot, app, [
            ev.Batch(run_id="r2", epoch=7, batch=b, loss=0.5 / b, step=240 + b, elapsed_s=3.0 + b,
                     t=T0 + 300 + b)
            for b in range(1, 4)
        ])
        assert loss[0] == 3
        assert cpu[0] == 0


async def test_samples_of_the_same_shape_do_not_lay_the_screen_out() -> None:
    """A sample moves the RSS, the CPU bars and the thread count: text of the same lines
    and width, so a repaint of those panels, no layout of the screen (the thread pools
    panel laid it out at every sample)."""
    app = new_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await monitor(pilot, app)
        layouts = count_calls(app.screen, "_refresh_layout")
        pools = count_calls(app.query_one(ThreadPoolsPanel), "refresh_from")
        memory = count_calls(app.query_one(MemoryPanel), "refresh_from")
        await feed(pilot, app, [sample(k) for k in range(1, 4)])
        await asyncio.sleep(0.1)  # a layout asked for runs at the screen's next update
        await pilot.pause()
        assert memory[0] == 3 and pools[0] == 3
        assert layouts[0] == 0


async def test_the_phases_panel_lays_out_only_when_its_lines_change() -> None:
    """The run's phases arrive each second; the panel's height follows its lines, so the
    screen is laid out when a line comes or goes, not when only the seconds moved."""
    app = new_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await monitor(pilot, app)
        layouts = count_calls(app.screen, "_refresh_layout")
        phases = count_calls(app.query_one(PhasesPanel), "refresh_from")
        seconds = {"forward_device": 1.0, "backward_device": 2.0, "optimizer": 0.1}
        events: list[ev.Event] = [
            ev.Phases(run_id="r2", seconds={k: v * s for k, v in seconds.items()}, steps=240 + s)
            for s in (1, 2)
        ]
        await feed(pilot, app, events)
        await asyncio.sleep(0.1)
        await pilot.pause()
        first = layouts[0]  # the breakdown's first lines (the run had none): a layout
        await feed(pilot, app, [
            ev.Phases(run_id="r2", seconds={k: v * s for k, v in seconds.items()}, steps=240 + s)
            for s in (3, 4, 5)
        ])
        await asyncio.sleep(0.1)
        await pilot.pause()
        assert phases[0] == 5
        assert layouts[0] == first <= 1


async def test_a_flat_memory_curve_paints_the_lines_that_moved() -> None:
    """A sample of the same RSS extends the flat line and moves the axis's count: those
    lines are painted again, not the whole chart (the composing costs per line)."""
    app = new_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await monitor(pilot, app)
        await feed(pilot, app, [sample(k, rss=100, grow=0) for k in range(1, 3)])
        await asyncio.sleep(0.1)
        await pilot.pause()
        graph = app.query_one("#mem-graph", LineGraph)
        lines = count_calls(graph, "render_line")
        await feed(pilot, app, [sample(k, rss=100, grow=0) for k in range(3, 6)])
        await asyncio.sleep(0.1)
        await pilot.pause()
        height = graph.content_region.height
        assert height >= 10
        assert 0 < lines[0] <= 3 * 3, (lines[0], height)  # 3 samples: a few lines each


async def test_a_batch_does_not_repaint_the_status_line() -> None:
    """The status line watches ``runs`` (bumped by every batch) for its run counts; a batch
    moves no count, so the line is not painted again: row 0 dirty with a panel lower down
    made Textual repaint the whole box between them, nearly the screen, at every frame."""
    from qtui.ui.widgets.status_line import StatusLine

    app = new_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await monitor(pilot, app)
        line = app.query_one(StatusLine)
        seen = count_calls(line, "refresh_from")
        renders = count_calls(line, "render")
        await feed(pilot, app, [
            ev.Batch(run_id="r2", epoch=7, batch=b, loss=0.5 / b, step=240 + b, elapsed_s=3.0 + b,
                     t=T0 + 300 + b)
            for b in range(1, 4)
        ])
        await asyncio.sleep(0.1)
        await pilot.pause()
        assert seen[0] >= 1  # it looked at the runs
        assert renders[0] == 0
