"""qtui: a terminal monitor and benchmark bench for hybrid quantum-classical training."""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``qtui.log`` / ``qtui.epoch`` (qtui.script_api), loaded on first use so that
    # ``import qtui`` stays as light as it was.
    if name in ("log", "epoch"):
        from qtui import script_api

        return getattr(script_api, name)
    raise AttributeError(f"module 'qtui' has no attribute {name!r}")
