"""A workload whose warning and error text is full of rich markup (issue 11, item 4)."""

from __future__ import annotations

import warnings
from typing import Any

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext

MESSAGE = "[/oops] broke: [enforce fail at alloc_cpu.cpp:127] [bold]not bold[/bold]"


def raises_markup(ctx: WorkloadContext) -> Workload:
    """Trains on default.qubit; on lightning the loss warns and then raises, in markup."""
    wl = forum_build(ctx)
    if not ctx.device.startswith("lightning"):
        return wl
    inner = wl.loss_fn

    def loss_fn(out: Any, target: Any) -> Any:
        warnings.warn(f"[red]{MESSAGE}", UserWarning, stacklevel=1)
        raise RuntimeError(MESSAGE)
        return inner(out, target)  # pragma: no cover

    wl.loss_fn = loss_fn
    return wl
