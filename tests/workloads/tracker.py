"""Workloads that count their own device's work beside qtui (issue 20, item 2).

``tracked``: the forum's model with a ``qml.Tracker`` on its quantum layer's
device, active from build to ``evaluate``, which reports the tracker's totals
as metrics (``tracker_<key>``): the same run's training steps, seen by
PennyLane's own tracker.  ``counted``: the same model with a counter on the
device's own methods (outer calls only, as qtui counts them) and the tracker
too, so a test can show where the tracker double-counts (``lightning.qubit``'s
derivative calls).  ``dead_rows``: ``tracked`` with the output net's hidden
ReLUs off for every sample (zero weights, bias -1), so no gradient reaches the
quantum layer.  All are for runs without warm-up, whose counts cover every
training step (evaluation is after the totals are read).
"""

from __future__ import annotations

import functools
from typing import Any

import pennylane as qml
import torch

from qtui.engine import forum
from qtui.engine.workload import Workload, WorkloadContext

#: The device methods a counter wraps (PennyLane's Device API).
METHODS = (
    "execute", "compute_derivatives", "execute_and_compute_derivatives",
    "compute_vjp", "execute_and_compute_vjp", "compute_jvp", "execute_and_compute_jvp",
)


class Counter:
    """Outer calls into one device instance: calls, circuits and the states they evolve."""

    def __init__(self) -> None:
        self.calls = self.circuits = self.states = 0
        self._inside = False

    def wrap(self, dev: Any) -> None:
        for name in METHODS:
            if hasattr(type(dev), name):
                setattr(dev, name, self._counted(getattr(dev, name)))

    def _counted(self, fn: Any) -> Any:
        @functools.wraps(fn)
        def counted(circuits: Any, *args: Any, **kwargs: Any) -> Any:
            if self._inside:
                return fn(circuits, *args, **kwargs)
            tapes = [circuits] if hasattr(circuits, "operations") else list(circuits)
            self.calls += 1
            self.circuits += len(tapes)
            self.states += sum(t.batch_size or 1 for t in tapes)
            self._inside = True
            try:
                return fn(circuits, *args, **kwargs)
            finally:
                self._inside = False

        return counted


def _device(wl: Workload) -> Any:
    return wl.model.qlayer.qnode.device  # type: ignore[union-attr]


def _with_counts(ctx: WorkloadContext, counter: Counter | None) -> Workload:
    wl = forum.build(ctx)
    dev = _device(wl)
    if counter is not None:
        counter.wrap(dev)
    tracker = qml.Tracker(dev)
    tracker.active = True
    evaluate = wl.evaluate
    assert evaluate is not None

    def counts(model: Any) -> dict[str, tuple[float, str]]:
        tracker.active = False  # evaluation is not training: qtui does not count it either
        out = {f"tracker_{k}": (float(v), "lower") for k, v in tracker.totals.items()
               if isinstance(v, (int, float)) and k.endswith(("batches", "simulations", "executions",
                                                                "derivatives", "vjps", "jvps"))}
        if counter is not None:
            out |= {f"counter_{k}": (float(getattr(counter, k)), "lower")
                    for k in ("calls", "circuits", "states")}
        return {**out, "accuracy": (evaluate(model), "higher")}

    wl.evaluate = counts
    return wl


def tracked(ctx: WorkloadContext) -> Workload:
    """The forum model with ``qml.Tracker`` on its device, its totals as metrics."""
    return _with_counts(ctx, None)


def counted(ctx: WorkloadContext) -> Workload:
    """The forum model with a counter on its device's methods, and the tracker too."""
    return _with_counts(ctx, Counter())


def dead_rows(ctx: WorkloadContext) -> Workload:
    """``tracked``, every row of the output net's hidden ReLU dead (and staying so)."""
    wl = _with_counts(ctx, None)
    model: Any = wl.model
    hidden = model.cnet_out[0]
    with torch.no_grad():
        hidden.weight.zero_()
        hidden.bias.fill_(-1.0)
    return wl
