"""The form's view of the capability probe (``qtui.capabilities``).

The probe runs in a child (the UI never imports pennylane) and is cached; this
module only adapts its answer to what the grid needs and provides
``StaticCapabilities`` so tests and snapshots can inject a fixed answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qtui.config import DIFF_METHODS


@dataclass
class StaticCapabilities:
    """A fixed probe answer: devices, refusals ``{(device, method): reason}`` and
    what ``best`` resolves to per device."""

    devices: list[str]
    refused: dict[tuple[str, str], str] = field(default_factory=dict)
    best: dict[str, str] = field(default_factory=dict)

    def usable_devices(self) -> list[str]:
        return list(self.devices)

    def check(self, device: str, method: str) -> str | None:
        return self.refused.get((device, method))

    def best_method(self, device: str) -> str | None:
        return self.best.get(device)


def best_for(caps: Any, device: str) -> str | None:
    """What ``best`` resolves to on ``device``, whatever the probe object calls it."""
    support = getattr(caps, "support", None)
    if callable(support):  # qtui.capabilities.Capabilities
        try:
            ms = support(device, "best")
        except Exception:  # noqa: BLE001
            ms = None
        resolved = getattr(ms, "resolved", None)
        if resolved:
            return str(resolved)
    for name in ("best_method", "best_for", "resolve_best", "best"):
        attr = getattr(caps, name, None)
        if callable(attr):
            try:
                value = attr(device)
            except Exception:  # noqa: BLE001 - an odd probe answer must not break the form
                continue
            if value:
                return str(value)
        elif isinstance(attr, dict) and attr.get(device):
            return str(attr[device])
    return None


def methods() -> tuple[str, ...]:
    return DIFF_METHODS

