"""The GPU panel with a fake NVML (no GPU on the test machine): present only when
NVML reports a device, and showing utilisation, memory and power."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from test_ui_data import fixed_caps

from qtui.ui.app import QtuiApp


def fake_nvml(count: int) -> types.ModuleType:
    m = types.ModuleType("pynvml")
    m.nvmlInit = lambda: None  # type: ignore[attr-defined]
    m.nvmlDeviceGetCount = lambda: count  # type: ignore[attr-defined]
    m.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    m.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=37)  # type: ignore[attr-defined]
    m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(  # type: ignore[attr-defined]
        used=3 * 2**30, total=80 * 2**30
    )
    m.nvmlDeviceGetPowerUsage = lambda h: 123_000  # type: ignore[attr-defined]
    m.nvmlDeviceGetName = lambda h: b"Fake H100"  # type: ignore[attr-defined]
    return m


@pytest.fixture(autouse=True)
def _dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))


@pytest.mark.parametrize("count", [0, 1])
async def test_gpu_tab_only_when_nvml_finds_a_gpu(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(count))
    app = QtuiApp(capabilities=fixed_caps(), record_history=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(40):
            await pilot.pause(0.05)
            if app._gpu is not None and (count == 0 or app.query("GpuPanel")):
                break
        await pilot.pause(0.1)
        panels = app.query("GpuPanel")
        assert bool(panels) == bool(count)
        if count:
            text = str(panels.first().render())
            assert "Fake H100" in text and "util  37%" in text and "123 W" in text
            assert "3.0/80.0 GiB" in text
