"""The GPU panel draws the GPU figures the engine's sampler put on ``sample`` events.

The UI process never opens NVML: a ``pynvml`` that fails on any use is put in
its place, and the GPU tab appears only once a sample carries GPU figures,
showing the latest one (utilisation and memory per device, the run's own GPU
memory).  Samples are pushed into the app's feed the way the supervisor's
thread does.
"""

from __future__ import annotations

import asyncio
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest
from test_ui_data import fixed_caps, session_events

from qtui.core import events as ev
from qtui.ui.app import QtuiApp

GiB = 2**30


class _NoNvml(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the UI process called NVML (pynvml.{name})")


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setitem(sys.modules, "pynvml", _NoNvml("pynvml"))


def gpu_sample(util: list[float], used: list[int], run_mem: int | None) -> ev.Sample:
    return ev.Sample(
        run_id="r1", percpu=[10.0, 20.0], rss=100 * 2**20, peak_rss=100 * 2**20, threads=4,
        peak_threads=4, cpu_s=1.0, wall_s=1.0, cores_in_use=1.0,
        gpu_util=util, gpu_mem_used=used, gpu_mem_total=[80 * GiB] * len(util),
        run_gpu_mem=run_mem,
    )


#: How long the app may take to show what it was fed: generous, a loaded machine is slow.
DEADLINE_S = 60.0


async def settle(pilot: Any, app: QtuiApp, cond: Any) -> None:
    """Wait until ``cond()`` holds (fail after ``DEADLINE_S``), then let the app go idle."""
    end = time.monotonic() + DEADLINE_S
    while not cond():
        assert time.monotonic() < end, f"not within {DEADLINE_S:.0f} s: {cond}"
        await pilot.pause(0.05)
    await pilot.pause()


async def drained(pilot: Any, app: QtuiApp) -> None:
    """Wait until the app has handled every message queued before this call.

    Its queue is first in, first out: a callback posted now runs after what the
    app's tick scheduled (``call_later``), such as mounting the GPU tab.
    """
    done = asyncio.Event()
    app.call_later(done.set)
    await asyncio.wait_for(done.wait(), DEADLINE_S)
    await pilot.pause()


async def test_no_gpu_tab_without_gpu_figures() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), record_history=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, app.panels_drawn)
        await pilot.press("5")  # the GPU tab's key does nothing without one
        await pilot.pause(0.1)
        assert not app.query("GpuPanel")
        assert app.state.gpu is None
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Show gpu tab" not in titles


async def test_gpu_tab_shows_the_latest_sample() -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), record_history=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, app.panels_drawn)
        assert not app.query("GpuPanel")
        app.feed.push(gpu_sample([12.0, 0.0], [1 * GiB, 0], None))
        app.feed.push(gpu_sample([37.0, 5.0], [3 * GiB, GiB // 2], int(2.5 * GiB)))
        await settle(pilot, app, lambda: bool(app.query("GpuPanel")))
        await pilot.press("5")
        await settle(pilot, app, app.panels_drawn)
        (panel,) = app.query("GpuPanel")
        text = str(panel.render())
        assert "util  37%" in text and "util   5%" in text, text
        assert "3072.0 MiB / 80.0 GiB" in text, text
        assert "r1" in text and "2560.0 MiB" in text, text
        assert app.query_one("TabbedContent").active == "gpu"
        assert "Show gpu tab" in {c.title for c in app.get_system_commands(app.screen)}


async def test_gpu_false_never_shows_the_tab() -> None:
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.feed.push(gpu_sample([50.0], [GiB], None))
        await settle(pilot, app, lambda: app.state.gpu is not None)
        # the tick that folded the sample would have scheduled the tab; that has run now
        await drained(pilot, app)
        assert app.state.gpu is not None and not app.query("GpuPanel")
