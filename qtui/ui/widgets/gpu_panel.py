"""GPU utilisation and memory per device, and the GPU memory the run holds, from the samples.

The engine's sampler reads NVML beside the CPU and memory figures and puts
them on ``sample`` events (``gpu_util``, ``gpu_mem_used``, ``gpu_mem_total``,
``run_gpu_mem``), so the same figures reach this panel, the exports, the
history and ``qtui watch``.  The UI process never opens NVML itself: the app
adds the GPU tab once a sample carries GPU figures.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from qtui.core import units
from qtui.ui.panel import LivePanel
from qtui.ui.state import GpuReading, LiveState
from qtui.ui.widgets.cpu_panel import spark


class GpuPanel(LivePanel, Widget):
    DEFAULT_CSS = """
    GpuPanel { height: 1fr; }
    """

    watches = ("gpu",)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.reading: GpuReading | None = None
        self.history: list[list[float]] = []

    def refresh_from(self, state: LiveState) -> None:
        self.reading = state.gpu
        self.history = [list(h) for h in state.gpu_history]
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        r = self.reading
        if r is None:
            text.append("waiting for a sample with GPU figures…", style="dim")
            return text
        width = self.content_size.width
        for i, util in enumerate(r.util):
            used = r.mem_used[i] if i < len(r.mem_used) else None
            total = r.mem_total[i] if i < len(r.mem_total) else None
            mem = f"{units.memory(used)} / {units.memory(total)}" if total else units.MISSING
            text.append(f"GPU{i}", "bold")
            text.append(f"  util {util:3.0f}%  mem {mem}\n")
            hist = self.history[i] if i < len(self.history) else []
            text.append("  " + spark(hist, max(10, width - 4)) + "\n")
        if r.run_mem is not None:
            text.append(f"run {r.run_id}: {units.memory(r.run_mem)} on the GPU\n")
        return text
