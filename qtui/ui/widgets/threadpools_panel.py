"""The run's OpenMP/BLAS thread pools and thread counts, under the CPU bars.

The child reports its pools through threadpoolctl when it starts and when it
finishes (``RunStarted.threadpools`` / ``RunFinished.threadpools``: user API,
implementation, size, library); the sampler adds the live and peak thread
count.  A pool of 16 OpenMP threads on a 2-qubit circuit is why a run can keep
every core of the node busy; ``qtui sweep --threads`` pins them.  After them: the
CPUs free at the run's start and, when the largest pool exceeds them, the
``oversubscribed`` flag with its ``--threads N`` (``qtui.core.cpu_fit``).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from qtui.analysis.fold import RunRecord
from qtui.core.cpu_fit import OVERSUBSCRIBED, advice
from qtui.ui.panel import LivePanel, set_text
from qtui.ui.state import LiveState


def pools_of(rec: RunRecord) -> list[dict[str, Any]]:
    return list(rec.result.get("threadpools") or rec.started.get("threadpools") or [])


def describe_pools(pools: list[dict[str, Any]]) -> str:
    """``openmp libgomp ×2 · blas openblas ×2`` (deduplicated, in report order)."""
    seen: dict[str, int] = {}
    for p in pools:
        lib = str(p.get("prefix") or p.get("internal_api") or "?")
        key = f"{p.get('user_api') or '?'} {lib}"
        seen[key] = max(seen.get(key, 0), int(p.get("num_threads") or 0))
    return " · ".join(f"{k} ×{n}" for k, n in seen.items())


class ThreadPoolsPanel(LivePanel, Static):
    DEFAULT_CSS = """
    ThreadPoolsPanel { height: auto; max-height: 3; color: $text-muted; }
    """

    def __init__(self, *, thread_mode: bool = False, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.thread_mode = thread_mode
        self.pools: list[dict[str, Any]] = []

    watches = ("memory",)
    slot = 2  # with the memory panel: the same samples

    def refresh_from(self, state: LiveState) -> None:
        rec = state.memory_run()
        self.update_data(rec, state.threads.get(rec.run_id) if rec else None)

    def update_data(self, rec: RunRecord | None, threads_now: int | None) -> None:
        text = Text()
        if rec is None:
            self.pools = []
            text.append("thread pools: reported when a run starts", style="dim")
            set_text(self, text)
            return
        self.pools = pools_of(rec)
        text.append("pools ", style="bold")
        if self.pools:
            text.append(describe_pools(self.pools))
        elif rec.started or rec.result:
            text.append("none reported (threadpoolctl)")
        else:
            text.append("reported once the run has imported torch")
        peak = max(
            int(rec.last_sample.get("peak_threads", 0) or 0),
            int(rec.result.get("peak_threads", 0) or 0),
        )
        text.append(" · threads ", style="bold")
        now = f"{threads_now} now, " if threads_now is not None and rec.state == "running" else ""
        text.append(f"{now}peak {peak or '—'}")
        if self.thread_mode:
            text.append(" (whole UI process)", style="italic")
        cpus = rec.cpus()
        if cpus is not None:  # the one rule (qtui.core.cpu_fit), as every view says it
            text.append(" · cpus ", style="bold")
            text.append(f"{cpus.free} free of {cpus.usable}")
            if cpus.threads_auto is not None:
                text.append(f", auto chose {cpus.threads_auto}")
            if cpus.oversubscribed:
                text.append(f" {OVERSUBSCRIBED}: {advice(cpus)}", style="bold reverse")
        set_text(self, text)
