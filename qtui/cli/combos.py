"""Which device × diff-method pairs a command runs: checked against the capability probe.

``run``, ``sweep`` and ``exec`` resolve their ``--device``/``--diff-method``
here, so an unknown device, an unusable one and a pair PennyLane refuses are
told the same way by every command.
"""

from __future__ import annotations

import sys
from typing import Any

from qtui.core.config import ConfigError, parse_devices, parse_diff_methods


def get_capabilities(refresh: bool = False) -> Any:
    from qtui.session.capabilities import cache_path, load_capabilities

    if refresh or not cache_path().is_file():
        print(
            "qtui: probing the installed PennyLane devices (once; the answer is cached)...",
            file=sys.stderr,
        )
    return load_capabilities(refresh=refresh)


def resolve_combos(
    device_text: str, method_text: str
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The runnable (device, method) pairs and the refused ones, with PennyLane's reasons.

    Raises ``ConfigError`` for an unknown or unusable device, an unknown
    method, or when nothing requested can run; ``ProbeError`` when probing fails.
    """
    methods = parse_diff_methods(method_text)
    caps = get_capabilities()
    return split_combos(usable_devices(caps, device_text), methods, caps.check)


def usable_devices(caps: Any, device_text: str) -> list[str]:
    """The listed devices, checked against the probe: ``ConfigError`` for an unusable one."""
    for name in [d.strip() for d in str(device_text).split(",") if d.strip()]:
        info = caps.devices.get(name)
        if info is not None and not info.usable:
            raise ConfigError("device", f"{name!r} is unavailable here: {info.reason}")
    return parse_devices(device_text, caps.usable_devices())


def split_combos(
    devices: list[str], methods: list[str], check: Any
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """devices × methods split by ``check(d, m)`` (None: runnable, else PennyLane's
    reason); ``ConfigError`` when nothing can run."""
    combos: list[tuple[str, str]] = []
    refused: list[dict[str, Any]] = []
    for d in devices:
        for m in methods:
            reason = check(d, m)
            if reason is None:
                combos.append((d, m))
            else:
                refused.append({"device": d, "diff_method": m, "reason": reason})
    if not combos:
        why = "; ".join(f"{r['device']}+{r['diff_method']}: {r['reason']}" for r in refused)
        raise ConfigError("diff-method", f"no requested combination can run here ({why})")
    return combos, refused
