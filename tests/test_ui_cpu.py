"""The per-core CPU panel (issue 10, items 11, 16, 17): every core readable at
80×24 and 200×50 from 2 to 256 cores, the history labelled, a finished run's
figures shown as the last sample, not as a busy node."""

from __future__ import annotations

import math

import pytest
from test_ui_data import T0, fixed_caps, session_events

from qtui.core import events as ev
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.cpu_panel import CpuPanel, choose_layout


def percpu(n: int, k: int = 0) -> list[float]:
    return [round(50 + 50 * math.sin(i * 0.7 + k), 1) for i in range(n)]


def running_session(n: int) -> list[ev.Event]:
    """A run still training on an ``n``-core node: three samples of every core."""
    out = [e for e in session_events() if not isinstance(e, (ev.Sample,))]
    out = [e for e in out if e.type not in ev.TERMINAL_TYPES or getattr(e, "run_id", "") != "r2"]
    out = [e for e in out if not isinstance(e, ev.SessionFinished)]
    for k in range(3):
        out.append(ev.Sample(run_id="r2", percpu=percpu(n, k), rss=100, peak_rss=100, threads=4,
                             peak_threads=4, cpu_s=1.0, wall_s=1.0, cores_in_use=1.0,
                             t=T0 + 200 + k))
    return out


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
@pytest.mark.parametrize("cores", [8, 64, 128, 256])
async def test_every_core_is_drawn_inside_the_panel(size: tuple[int, int], cores: int) -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=running_session(cores), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await pilot.pause(0.4)
        panel = app.query_one(CpuPanel)
        text = panel.render()
        lines = text.plain.split("\n")
        w, h = panel.content_size.width, panel.content_size.height
        assert len(lines) <= h, f"{len(lines)} lines in a panel {h} high ({panel.layout_used})"
        assert all(len(line) <= w for line in lines)
        body = lines[1:] if "cell" in lines[0] or "now" in lines[0] else lines
        if panel.layout_used == "bars":
            assert sum(line.count("%") for line in body) == cores
            assert "now" in lines[0] and "last" in lines[0]  # both bars are named
        elif panel.layout_used == "heat":
            assert sum(len(line.split(" ", 1)[1]) for line in body if line.strip()) >= cores
        else:
            cells = sum(len(line.strip().split(" ", 1)[1]) for line in body if line.strip())
            assert cells * 2 >= cores


def test_the_layout_gets_denser_only_when_it_must() -> None:
    assert choose_layout(8, 38, 5)[0] == "bars"
    assert choose_layout(64, 38, 5) == ("heat", 32, True)
    assert choose_layout(256, 38, 5)[0] == "dense"
    assert choose_layout(256, 38, 4) == ("dense", 64, False)  # no room for the header
    assert choose_layout(32, 66, 19)[0] == "bars"
    assert choose_layout(64, 66, 19)[0] == "heat"  # 64 bars cost 23 ms of UI lag at 200×50
    assert choose_layout(256, 66, 19) == ("heat", 32, True)


async def test_a_finished_run_shows_the_last_sample_not_a_busy_node() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await pilot.pause(0.4)
        panel = app.query_one(CpuPanel)
        assert panel.stale
        text = panel.render()
        assert text.plain.startswith("run ended: last sample")
        body = [s for s in text.spans if s.start > text.plain.index("\n")]
        assert body and all(span.style in ("dim", "") for span in body), body
        assert "last sample" in str(app.query_one("#cpu-box").border_subtitle)
