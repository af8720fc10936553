"""Where every panel sits: the tabs of the main screen (the app only wires them).

Only the first tab's content is built for the first frame.  Every other tab's is
built (and its panels' modules imported: the plots, the results model, the
statistics behind the recommendation) after the first frame (``qtui.ui.later``); each
panel then registers itself with the app (``qtui.ui.panel``) and draws from the
state.  ``tests/test_app_lightness.py`` checks what the first frame loads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from qtui.ui.later import Later
from qtui.ui.tabs import label as tab_label

W = TypeVar("W", bound=Widget)


def main_panels() -> tuple[type[Widget], ...]:
    """The panels every session shows; the app's ``panels_drawn`` waits for each."""
    from qtui.ui.widgets.cpu_panel import CpuPanel
    from qtui.ui.widgets.loss_panel import LossPanel
    from qtui.ui.widgets.memory_panel import MemoryPanel
    from qtui.ui.widgets.phases_panel import PhasesPanel
    from qtui.ui.widgets.recommend_panel import RecommendationPanel
    from qtui.ui.widgets.results_table import ResultsTable
    from qtui.ui.widgets.sweep_panel import SweepPanel
    from qtui.ui.widgets.warnings_panel import WarningsPanel

    return (
        LossPanel, CpuPanel, MemoryPanel, ResultsTable, RecommendationPanel,
        WarningsPanel, PhasesPanel, SweepPanel,
    )


def titled(widget: W, title: str) -> W:
    widget.border_title = title
    return widget


def setup_form() -> Widget:
    from qtui.ui.widgets.run_form import RunForm

    return RunForm(id="form")


def monitor_body(thread_mode: bool) -> Widget:
    """Loss and the run queue on the left; CPU, thread pools and memory on the right."""
    from qtui.ui.widgets.cpu_panel import CPU_TITLE, CpuPanel
    from qtui.ui.widgets.loss_panel import LossPanel
    from qtui.ui.widgets.memory_panel import MemoryPanel
    from qtui.ui.widgets.run_queue import RunQueue
    from qtui.ui.widgets.threadpools_panel import ThreadPoolsPanel

    memory = (
        "Memory — thread mode: figures cover the whole UI process"
        if thread_mode
        else "Memory of the run's child process"
    )
    return Horizontal(
        Vertical(
            titled(LossPanel(id="loss"), "Loss"),
            titled(RunQueue(id="mon-queue"), "Runs"),
            id="mon-left",
        ),
        Vertical(
            titled(
                Vertical(
                    CpuPanel(id="cpu"),
                    ThreadPoolsPanel(thread_mode=thread_mode, id="pools"),
                    id="cpu-box",
                ),
                CPU_TITLE,
            ),
            titled(MemoryPanel(thread_mode=thread_mode, id="memory"), memory),
            id="mon-right",
        ),
        id="monitor-body",
    )


def results_body() -> Widget:
    """The run queue, the results table and the recommendation."""
    from qtui.ui.widgets.recommend_panel import RecommendationPanel
    from qtui.ui.widgets.results_table import ResultsTable
    from qtui.ui.widgets.run_queue import RunQueue

    return Vertical(
        titled(RunQueue(id="queue"), "Run queue (enter: details · c cancels a run, C all)"),
        titled(
            ResultsTable(id="results-table"),
            # fits 80 columns (it was cut at "cores b…")
            "Results (enter: runs · s sorts · ★ best · ! > 1.5 cores busy)",
        ),
        titled(
            VerticalScroll(RecommendationPanel(id="recommend"), id="recommend-box"),
            "Recommendation on this machine",  # per workload group when there are several
        ),
    )


def warnings_body() -> Widget:
    from qtui.ui.widgets.warnings_panel import WarningsPanel

    return titled(WarningsPanel(id="warnings-panel"), "Warnings (deduplicated)")


def phases_body() -> Widget:
    from qtui.ui.widgets.phases_panel import PhasesPanel

    return titled(
        VerticalScroll(PhasesPanel(id="phases-panel"), id="phases-box"),
        "Where a training step's time goes",
    )


def sweep_body() -> Widget:
    from qtui.ui.widgets.sweep_panel import SweepPanel

    return titled(
        SweepPanel(id="sweep-panel"), "Sweep: per training step against the swept value"
    )


def tabs(*, initial: str, watching: bool, thread_mode: bool) -> ComposeResult:
    """The tabbed body of the main screen (the GPU tab is added once there is a GPU)."""

    def content(tab: str, build: Callable[[], Widget]) -> Widget:
        return build() if tab == initial else Later(build)

    with TabbedContent(initial=initial, id="tabs"):
        if not watching:
            with TabPane(tab_label("setup"), id="setup"):
                yield content("setup", setup_form)
        with TabPane(tab_label("monitor"), id="monitor"):
            yield content("monitor", lambda: monitor_body(thread_mode))
        with TabPane(tab_label("results"), id="results"):
            yield content("results", results_body)
        with TabPane(tab_label("warnings"), id="warnings"):
            yield content("warnings", warnings_body)
        with TabPane(tab_label("phases"), id="phases"):
            yield content("phases", phases_body)
        with TabPane(tab_label("sweep"), id="sweep"):
            yield content("sweep", sweep_body)


def gpu_pane() -> TabPane:
    """The GPU tab, added after the warnings tab once a sample carries GPU figures."""
    from qtui.ui.widgets.gpu_panel import GpuPanel

    panel = titled(GpuPanel(id="gpu-panel"), "GPU (NVML, sampled with the run)")
    return TabPane(tab_label("gpu"), panel, id="gpu")
