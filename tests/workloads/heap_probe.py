"""The forum workload, reporting the garbage collector's state as named metrics.

``build`` leaves a reference cycle behind (garbage only a collection frees) and
notes how many objects were frozen then; the first training step notes the
frozen count again and whether the cycle was freed.  ``evaluate`` reports the
three as metrics, so a test reads them from the run's ``run_finished``.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def build(ctx: WorkloadContext) -> Workload:
    wl = forum_build(ctx)
    seen: dict[str, float] = {"frozen_at_build": float(gc.get_freeze_count())}
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    del cycle  # garbage now, but only a collection frees it
    loss_fn, unpack = wl.loss_fn, wl.unpack
    assert loss_fn is not None

    def forward(model: Any, batch: Any) -> Any:
        if "frozen_at_step" not in seen:
            seen["frozen_at_step"] = float(gc.get_freeze_count())
            seen["cycle_alive_at_step"] = float(alive() is not None)
        inputs, targets = unpack(batch) if unpack is not None else (batch[0], batch[1])
        return loss_fn(model(inputs), targets)

    wl.forward = forward

    def evaluate(_model: Any) -> dict[str, tuple[float, str]]:
        return {name: (value, "higher") for name, value in seen.items()}

    wl.evaluate = evaluate
    return wl
