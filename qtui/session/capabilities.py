"""Which devices and diff methods work here: the probe's answer, cached (UI side).

The UI/CLI process must not import torch or pennylane (≈4 s, ≈500 MB), so the
answer comes from ``python -m qtui.engine.probe`` run in a child, and is cached
in the user cache folder (``$QTUI_CACHE_DIR`` overrides it).  The cache key is
the Python executable, the versions of pennylane, pennylane-lightning, torch
and qtui (read from package metadata, not by importing), the set of installed
PennyLane device entry points and the probe's version: install a plugin or
upgrade PennyLane and the next call probes again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from qtui.core.config import DIFF_METHODS
from qtui.core.paths import cache_dir

PROBE_MODULE = "qtui.engine.probe"
PROBE_TIMEOUT_S = 300.0
#: Must match ``qtui.engine.probe.PROBE_VERSION`` (not imported: keep this side light).
PROBE_VERSION = 1

#: Order devices are listed in: the common simulators first, the rest by name.
_PREFERRED = (
    "default.qubit",
    "lightning.qubit",
    "lightning.kokkos",
    "lightning.gpu",
    "lightning.tensor",
    "default.mixed",
)


class ProbeError(RuntimeError):
    """The probe child failed; the message carries its stderr tail."""


@dataclass(frozen=True)
class MethodSupport:
    supported: bool
    reason: str | None = None  # PennyLane's own reason when refused
    resolved: str | None = None  # what the method resolves to ("best" → ...)
    split_batch: bool = False  # the batch is split (parameter-shift, finite-diff)
    seconds: float = 0.0


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    usable: bool
    reason: str | None = None  # why the device is unavailable
    package: str = ""
    note: str | None = None
    methods: dict[str, MethodSupport] = field(default_factory=dict)


@dataclass
class Capabilities:
    """Devices × diff methods, as probed."""

    devices: dict[str, DeviceInfo]
    methods: tuple[str, ...] = DIFF_METHODS
    versions: dict[str, str] = field(default_factory=dict)
    probed_at: float = 0.0
    probe_s: float = 0.0
    from_cache: bool = False
    cache_path: str | None = None

    def usable_devices(self) -> list[str]:
        """Devices whose forum circuit works with at least one method (the default list)."""
        return [d.name for d in self.ordered() if d.usable]

    def unavailable(self) -> list[DeviceInfo]:
        return [d for d in self.ordered() if not d.usable]

    def ordered(self) -> list[DeviceInfo]:
        def rank(d: DeviceInfo) -> tuple[int, str]:
            return (_PREFERRED.index(d.name) if d.name in _PREFERRED else len(_PREFERRED), d.name)

        return sorted(self.devices.values(), key=rank)

    def support(self, device: str, method: str) -> MethodSupport | None:
        info = self.devices.get(device)
        return info.methods.get(method) if info else None

    def best_method(self, device: str) -> str | None:
        """What ``best`` resolves to on ``device`` (None if it does not work there)."""
        ms = self.support(device, "best")
        return ms.resolved if ms is not None and ms.supported else None

    def split_batch(self, device: str, method: str) -> bool:
        ms = self.support(device, method)
        return bool(ms and ms.supported and ms.split_batch)

    def matrix(self) -> dict[str, dict[str, MethodSupport]]:
        """``{device: {method: MethodSupport}}`` for the usable devices."""
        return {d.name: dict(d.methods) for d in self.ordered() if d.usable}

    def check(self, device: str, method: str) -> str | None:
        """None when the combination works, otherwise the reason it does not."""
        info = self.devices.get(device)
        if info is None:
            return f"unknown device {device!r}"
        if not info.usable:
            return info.reason or f"device {device!r} is unavailable"
        ms = info.methods.get(method)
        if ms is None:
            return f"diff method {method!r} was not probed"
        if not ms.supported:
            return ms.reason or "refused"
        return None

    # --- (de)serialisation ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "probe_version": PROBE_VERSION,
            "methods": list(self.methods),
            "versions": dict(self.versions),
            "probed_at": self.probed_at,
            "probe_s": self.probe_s,
            "devices": [asdict(d) for d in self.ordered()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Capabilities:
        devices: dict[str, DeviceInfo] = {}
        for d in data.get("devices", []):
            methods = {
                name: MethodSupport(
                    supported=bool(m.get("supported")),
                    reason=m.get("reason"),
                    resolved=m.get("resolved"),
                    split_batch=bool(m.get("split_batch")),
                    seconds=float(m.get("seconds", 0.0)),
                )
                for name, m in (d.get("methods") or {}).items()
            }
            devices[d["name"]] = DeviceInfo(
                name=d["name"],
                usable=bool(d.get("usable")),
                reason=d.get("reason"),
                package=d.get("package", "") or "",
                note=d.get("note"),
                methods=methods,
            )
        return cls(
            devices=devices,
            methods=tuple(data.get("methods") or DIFF_METHODS),
            versions=dict(data.get("versions") or {}),
            probed_at=float(data.get("probed_at") or 0.0),
            probe_s=float(data.get("probe_s") or 0.0),
        )


# --- cache -------------------------------------------------------------------------


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def cache_key() -> str:
    """Changes whenever the answer could: interpreter, key packages, installed devices."""
    plugins = sorted(
        f"{ep.name}={ep.value}" for ep in metadata.entry_points(group="pennylane.plugins")
    )
    basis = {
        "python": sys.executable,
        "versions": {
            n: _version(n) for n in ("pennylane", "pennylane-lightning", "torch", "qtui")
        },
        "plugins": plugins,
        "probe_version": PROBE_VERSION,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


def cache_path() -> Path:
    return cache_dir() / f"capabilities-{cache_key()}.json"


def load_capabilities(refresh: bool = False, *, timeout: float = PROBE_TIMEOUT_S) -> Capabilities:
    """The cached answer, or a fresh probe (in a child) when there is none or ``refresh``."""
    path = cache_path()
    if not refresh and path.is_file():
        try:
            caps = Capabilities.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            caps = None
        if caps is not None and caps.devices:
            caps.from_cache = True
            caps.cache_path = str(path)
            return caps
    data = run_probe(timeout=timeout)
    caps = Capabilities.from_dict(data)
    caps.cache_path = str(path)
    _write_atomic(path, json.dumps(caps.to_dict(), indent=1))
    return caps


def run_probe(timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """Run ``python -P -m qtui.engine.probe`` and return its JSON."""
    from qtui.engine.pycmd import python_command

    with tempfile.TemporaryDirectory(prefix="qtui-probe-") as tmp:
        out = Path(tmp) / "probe.json"
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                python_command(PROBE_MODULE, "--out", str(out)),  # cwd off sys.path
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProbeError(f"the capability probe did not finish in {timeout:g} s") from exc
        if proc.returncode != 0 or not out.is_file():
            tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
            raise ProbeError(
                f"the capability probe failed (exit {proc.returncode}"
                f" after {time.monotonic() - t0:.1f} s): {tail}"
            )
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def _write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs a re-probe next time
