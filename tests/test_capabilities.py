"""The capability probe: PennyLane's own answers, from a real child, cached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qtui.session.capabilities import Capabilities, cache_key, cache_path, load_capabilities


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("qtui-cache")
    saved = os.environ.get("QTUI_CACHE_DIR")
    os.environ["QTUI_CACHE_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("QTUI_CACHE_DIR", None)
    else:
        os.environ["QTUI_CACHE_DIR"] = saved


@pytest.fixture(scope="module")
def caps(cache: Path) -> Capabilities:
    return load_capabilities()


def test_probe_answers_like_pennylane(caps: Capabilities) -> None:
    usable = caps.usable_devices()
    assert usable[:2] == ["default.qubit", "lightning.qubit"]
    for m in ("backprop", "adjoint", "parameter-shift", "finite-diff", "best"):
        assert caps.check("default.qubit", m) is None
    reason = caps.check("lightning.qubit", "backprop")
    assert reason is not None and reason.startswith("QuantumFunctionError")
    assert "does not support backprop" in reason
    assert " at 0x" not in reason  # addresses are stripped, so the cache is stable
    assert caps.check("lightning.qubit", "adjoint") is None
    assert caps.best_method("default.qubit") == "backprop"
    assert caps.best_method("lightning.qubit") == "adjoint"
    assert caps.split_batch("default.qubit", "parameter-shift")
    assert caps.split_batch("lightning.qubit", "finite-diff")
    assert not caps.split_batch("default.qubit", "backprop")
    assert caps.check("no.such.device", "backprop") == "unknown device 'no.such.device'"


def test_unavailable_devices_are_listed_with_a_reason(caps: Capabilities) -> None:
    for info in caps.unavailable():
        assert info.reason, info
        assert info.name not in caps.usable_devices()
        assert caps.check(info.name, "backprop") == info.reason
    # every installed device entry point is accounted for, usable or not
    from importlib import metadata

    names = {ep.name for ep in metadata.entry_points(group="pennylane.plugins")}
    assert set(caps.devices) == names


def test_second_load_comes_from_the_cache(caps: Capabilities, cache: Path) -> None:
    assert cache_path().parent == cache and cache_path().is_file()
    assert cache_key() in cache_path().name
    again = load_capabilities()
    assert again.from_cache  # read back, not probed again (the outcome; no timing)
    assert again.usable_devices() == caps.usable_devices()
    assert again.check("lightning.qubit", "backprop") == caps.check("lightning.qubit", "backprop")


def test_a_corrupt_cache_is_probed_again(caps: Capabilities, cache: Path) -> None:
    cache_path().write_text("{not json")
    fresh = load_capabilities()
    assert not fresh.from_cache
    assert fresh.usable_devices() == caps.usable_devices()
    assert json.loads(cache_path().read_text())["devices"]


def test_round_trip(caps: Capabilities) -> None:
    back = Capabilities.from_dict(json.loads(json.dumps(caps.to_dict())))
    assert back.devices == caps.devices
    assert back.matrix() == caps.matrix()


def test_ui_side_modules_do_not_import_torch_or_pennylane() -> None:
    code = (
        "import qtui.cli.main, qtui.session.capabilities, qtui.engine.supervisor, qtui.cli.console_session, "
        "qtui.engine.machine, qtui.cli.commands.run, qtui.cli.commands.devices, qtui.engine.sampler\n"
        "import qtui.cli.main as c; c.build_parser()\n"
        "import sys\n"
        "bad = [m for m in ('torch', 'pennylane') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_does_not_import_textual() -> None:
    code = (
        "import qtui.engine.supervisor, qtui.engine.sampler, qtui.engine.probe, "
        "qtui.engine.workload_check, qtui.engine.trainer, qtui.engine.workload\n"
        "import sys\n"
        "assert 'textual' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
