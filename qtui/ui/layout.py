"""Where every panel sits: the tabs of the main screen (the app only wires them).

Panes not shown first are wrapped in ``Lazy``: they mount after the first frame,
which keeps the first paint under a second; each panel then registers itself
with the app (``qtui.ui.panel``) and draws from the state.
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from qtui.ui.tabs import label as tab_label
from qtui.ui.widgets.cpu_panel import CPU_TITLE, CpuPanel
from qtui.ui.widgets.loss_panel import LossPanel
from qtui.ui.widgets.memory_panel import MemoryPanel
from qtui.ui.widgets.phases_panel import PhasesPanel
from qtui.ui.widgets.recommend_panel import RecommendationPanel
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_form import RunForm
from qtui.ui.widgets.run_queue import RunQueue
from qtui.ui.widgets.sweep_panel import SweepPanel
from qtui.ui.widgets.threadpools_panel import ThreadPoolsPanel
from qtui.ui.widgets.warnings_panel import WarningsPanel

W = TypeVar("W", bound=Widget)

#: The panels every session shows; the app's ``panels_drawn`` waits for each.
MAIN_PANELS: tuple[type[Widget], ...] = (
    LossPanel, CpuPanel, MemoryPanel, ResultsTable, RecommendationPanel,
    WarningsPanel, PhasesPanel, SweepPanel,
)


def titled(widget: W, title: str) -> W:
    widget.border_title = title
    return widget


def tabs(*, initial: str, watching: bool, thread_mode: bool) -> ComposeResult:
    """The tabbed body of the main screen (the GPU tab is added once there is a GPU)."""

    def lazy(tab: str, widget: Widget) -> Widget:
        return widget if tab == initial else Lazy(widget)

    with TabbedContent(initial=initial, id="tabs"):
        if not watching:
            with TabPane(tab_label("setup"), id="setup"):
                yield lazy("setup", RunForm(id="form"))
        with TabPane(tab_label("monitor"), id="monitor"), lazy("monitor", Horizontal(id="monitor-body")):
            with Vertical(id="mon-left"):
                yield titled(LossPanel(id="loss"), "Loss")
                yield titled(RunQueue(id="mon-queue"), "Runs")
            with Vertical(id="mon-right"):
                with titled(Vertical(id="cpu-box"), CPU_TITLE):
                    yield CpuPanel(id="cpu")
                    yield ThreadPoolsPanel(thread_mode=thread_mode, id="pools")
                yield titled(
                    MemoryPanel(thread_mode=thread_mode, id="memory"),
                    "Memory — thread mode: figures cover the whole UI process"
                    if thread_mode
                    else "Memory of the run's child process",
                )
        with TabPane(tab_label("results"), id="results"), lazy("results", Vertical()):
            yield titled(RunQueue(id="queue"), "Run queue (enter: details · c cancels a run, C all)")
            yield titled(
                ResultsTable(id="results-table"),
                # fits 80 columns (it was cut at "cores b…")
                "Results (enter: runs · s sorts · ★ best · ! > 1.5 cores busy)",
            )
            with titled(
                VerticalScroll(id="recommend-box"),
                "Recommendation on this machine",  # per workload group when there are several
            ):
                yield RecommendationPanel(id="recommend")
        with TabPane(tab_label("warnings"), id="warnings"):
            yield lazy(
                "warnings", titled(WarningsPanel(id="warnings-panel"), "Warnings (deduplicated)")
            )
        with TabPane(tab_label("phases"), id="phases"), lazy(
            "phases", titled(VerticalScroll(id="phases-box"), "Where a training step's time goes")
        ):
            yield PhasesPanel(id="phases-panel")
        with TabPane(tab_label("sweep"), id="sweep"):
            yield lazy(
                "sweep",
                titled(
                    SweepPanel(id="sweep-panel"), "Sweep: per training step against the swept value"
                ),
            )


def gpu_pane() -> TabPane:
    """The GPU tab, added after the warnings tab once a sample carries GPU figures."""
    from qtui.ui.widgets.gpu_panel import GpuPanel

    panel = titled(GpuPanel(id="gpu-panel"), "GPU (NVML, sampled with the run)")
    return TabPane(tab_label("gpu"), panel, id="gpu")
