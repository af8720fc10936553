"""The running child's RSS (current and peak) with a history graph, its thread
count and cores in use.

In ``--isolation thread`` mode the sampler can only read the UI process, so the
panel says, in its title, that the figures cover the whole UI process.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from qtui.analysis.fold import RunRecord
from qtui.core import units
from qtui.core.safe_text import visible
from qtui.ui.panel import LivePanel, set_text
from qtui.ui.state import LiveState
from qtui.ui.widgets.graph import LineGraph, Series


class MemoryPanel(LivePanel, Vertical):
    DEFAULT_CSS = """
    MemoryPanel { height: 1fr; }
    MemoryPanel > #mem-stats { height: auto; }
    MemoryPanel > LineGraph { height: 1fr; }
    """

    watches = ("memory", "style")
    slot = 2

    def __init__(self, *, thread_mode: bool = False, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.thread_mode = thread_mode

    def compose(self) -> ComposeResult:
        yield Static("no run yet", id="mem-stats")
        graph = LineGraph(y_floor=0.0, x_label="samples", id="mem-graph")
        graph.formatter = units.axis_memory
        graph.empty_text = "RSS history appears once a run starts"
        yield graph

    def refresh_from(self, state: LiveState) -> None:
        rec = state.memory_run()
        rid = rec.run_id if rec else ""
        self.update_data(
            rec,
            state.run_label(rec) if rec else "",
            state.rss_history.get(rid, []),
            state.threads.get(rid),
            state.cores.get(rid),
            state.color(rid),
        )

    def update_data(
        self,
        rec: RunRecord | None,
        label: str,
        history: list[float],
        threads: int | None,
        cores: float | None,
        color: str,
    ) -> None:
        stats = self.query_one("#mem-stats", Static)
        graph = self.query_one(LineGraph)
        if rec is None:
            set_text(stats, "no run yet")
            graph.set_series([])
            return
        current = history[-1] if history else None
        sample_peak = rec.last_sample.get("peak_rss", 0) if rec.last_sample else 0
        final_peak = rec.result.get("peak_rss", 0) if rec.result else 0
        peak = max(sample_peak or 0, final_peak or 0, max(history) if history else 0)
        scope = "UI process (thread mode)" if self.thread_mode else "child"
        lines = [
            f"[b]{escape(visible(label))}[/b] {rec.state} · {scope}",  # a run's name: as written
            f"RSS {units.memory(current)}  peak {units.memory(peak)}",
            f"threads {units.count(threads)}  cores {units.cores(cores)}",
        ]
        set_text(stats, "\n".join(lines))
        graph.set_series([Series(label, history, color)] if history else [])
