"""The form's view of the capability probe (``qtui.session.capabilities``).

The probe runs in a child (the UI never imports pennylane) and is cached; this
module only adapts its answer to what the grid needs and provides
``StaticCapabilities`` so tests and snapshots can inject a fixed answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qtui.core.config import DIFF_METHODS


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
    """What ``best`` resolves to on ``device``: ``Capabilities.support`` or ``best_method``."""
    support = getattr(caps, "support", None)
    if callable(support):  # qtui.session.capabilities.Capabilities (a lookup: never raises)
        resolved = getattr(support(device, "best"), "resolved", None)
        if resolved:
            return str(resolved)
    best_method = getattr(caps, "best_method", None)
    value = best_method(device) if callable(best_method) else None
    return str(value) if value else None


def methods() -> tuple[str, ...]:
    return DIFF_METHODS

