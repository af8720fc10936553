"""GPU utilisation, memory and power through NVML (nvidia-ml-py), when a GPU exists.

``gpu_available()`` decides whether the app mounts this panel at all: no GPU,
no NVML library or no driver means no panel (and no error).  NVML is read on
the panel's own 1 s timer in the UI process; the calls are cheap and never
touch the training children.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text
from textual.widget import Widget

from qtui.ui.widgets.cpu_panel import spark


def _nvml() -> Any | None:
    try:
        import pynvml  # nvidia-ml-py installs this module name
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver / no library: no panel
        return None
    return pynvml


def gpu_available() -> bool:
    nv = _nvml()
    if nv is None:
        return False
    try:
        return int(nv.nvmlDeviceGetCount()) > 0
    except Exception:  # noqa: BLE001
        return False


class GpuPanel(Widget):
    DEFAULT_CSS = """
    GpuPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.nv = _nvml()
        self.rows: list[dict[str, Any]] = []
        self.util_hist: dict[int, deque[float]] = {}
        self.error = ""

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(1.0, self.poll)

    def poll(self) -> None:
        if self.nv is None:
            return
        nv = self.nv
        rows = []
        try:
            for i in range(int(nv.nvmlDeviceGetCount())):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                util = nv.nvmlDeviceGetUtilizationRates(h)
                mem = nv.nvmlDeviceGetMemoryInfo(h)
                try:
                    power = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
                except Exception:  # noqa: BLE001 - not every board reports power
                    power = None
                name = nv.nvmlDeviceGetName(h)
                name = name.decode() if isinstance(name, bytes) else str(name)
                rows.append(
                    {
                        "i": i,
                        "name": name,
                        "util": float(util.gpu),
                        "mem_used": mem.used,
                        "mem_total": mem.total,
                        "power": power,
                    }
                )
                self.util_hist.setdefault(i, deque(maxlen=60)).append(float(util.gpu))
        except Exception as exc:  # noqa: BLE001 - show, don't crash
            self.error = f"NVML: {exc}"
        self.rows = rows
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        if self.error:
            text.append(self.error + "\n", "red")
        width = self.content_size.width
        for r in self.rows:
            mem = f"{r['mem_used'] / 2**30:.1f}/{r['mem_total'] / 2**30:.1f} GiB"
            power = f"{r['power']:.0f} W" if r["power"] is not None else "— W"
            text.append(f"GPU{r['i']} {r['name']}\n", "bold")
            text.append(f"  util {r['util']:3.0f}%  mem {mem}  power {power}\n")
            text.append("  " + spark(self.util_hist.get(r["i"], []), max(10, width - 4)) + "\n")
        return text
