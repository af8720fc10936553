"""PennyLane's own time: the QNode call, forward and backward, the device included.

*(child)*  ``install()`` wraps ``QNode.__call__`` once per process.  On a
sampled step (``QNodeClock.sampling``, set by ``qtui.engine.phases``) the
wrapper times the call (the forward: tape construction, transforms, the torch
interface and the device calls inside) and hooks the call's tensors: the first
gradient reaching one of its outputs opens the QNode's backward, the last
gradient reaching one of its inputs or weights closes it.  Between the two
PyTorch runs only the QNode's own backward (PennyLane's VJP, a gradient
transform's shifted executions, backprop's autograd through the simulator), so
that span is PennyLane's backward, device included.  Subtracting the device's
share (``qtui.engine.device_truth``) leaves PennyLane's framework; subtracting
PennyLane's from the step's spans leaves the nn layers.

Several QNode calls in one step (a batch evaluated sample by sample, two
quantum layers) give several spans; their *union* is counted, so overlapping
spans are not counted twice.  The hooks are removed when the step settles, so
hooks on leaf weights do not pile up over a run.  Off the sampled steps the
wrapper costs one global read.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

_MARK = "__qtui_qnode_time__"
_ACTIVE: QNodeClock | None = None
_LOCAL = threading.local()
_perf = time.perf_counter


class QNodeClock:
    """One run's PennyLane seconds on the sampled steps (forward calls + backward spans)."""

    def __init__(self) -> None:
        #: Cumulative seconds inside QNode calls and their backward spans (sampled steps).
        self.seconds = 0.0
        #: Time the QNode calls of this step (a sampled step).
        self.sampling = False
        self._spans: list[list[float]] = []
        self._handles: list[Any] = []

    def called(self, seconds: float, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        """A QNode call of a sampled step returned: its forward time, and hooks for its backward."""
        self.seconds += seconds
        outs = [t for t in _tensors(result) if t.requires_grad]
        ins = [t for t in _tensors((args, kwargs)) if t.requires_grad]
        if not outs or not ins:
            return
        span = [0.0, 0.0]

        def started(_grad: Any) -> None:
            if not span[0]:
                span[0] = _perf()

        def ended(_grad: Any) -> None:
            span[1] = _perf()

        handles = self._handles
        for t in outs:
            handles.append(t.register_hook(started))
        for t in ins:
            handles.append(t.register_hook(ended))
        self._spans.append(span)

    def settle(self) -> float:
        """Fold the closed backward spans in (their union), drop the hooks; the cumulative seconds."""
        if self._spans:
            closed = sorted((s, e) for s, e in self._spans if s and e > s)
            end = 0.0
            for start, stop in closed:
                start = max(start, end)
                if stop > start:
                    self.seconds += stop - start
                    end = stop
            self._spans = []
        if self._handles:
            for h in self._handles:
                h.remove()
            self._handles = []
        return self.seconds


def _tensors(value: Any) -> list[Any]:
    """The torch tensors in a QNode's arguments or result (nested tuples, lists, dicts)."""
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return [value] if hasattr(value, "register_hook") else []


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        clock = _ACTIVE
        if clock is None or not clock.sampling or getattr(_LOCAL, "inside", False):
            return fn(self, *args, **kwargs)
        _LOCAL.inside = True
        t0 = _perf()
        try:
            result = fn(self, *args, **kwargs)
        finally:
            _LOCAL.inside = False
        clock.called(_perf() - t0, args, kwargs, result)
        return result

    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> None:
    """Wrap ``QNode.__call__`` (once per process)."""
    from pennylane.workflow import QNode

    call = QNode.__dict__["__call__"]
    if not getattr(call, _MARK, False):
        QNode.__call__ = _wrap(call)  # type: ignore[method-assign]


def uninstall() -> None:
    """Put ``QNode.__call__`` back (benchmarks measure a baseline without it)."""
    from pennylane.workflow import QNode

    call = QNode.__dict__["__call__"]
    if getattr(call, _MARK, False):
        QNode.__call__ = call.__wrapped__  # type: ignore[method-assign]


def watch(clock: QNodeClock | None) -> None:
    """Time sampled QNode calls into ``clock`` from now on (``None``: stop)."""
    global _ACTIVE
    _ACTIVE = clock
