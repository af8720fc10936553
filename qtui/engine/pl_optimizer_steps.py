"""PennyLane's own optimizers give training steps in a ``qtui exec`` run.

*(child)*  Most PennyLane demos train without torch: the autograd interface and
``opt.step(cost, params)`` or ``opt.step_and_cost(cost, params)`` of one of
PennyLane's optimizers, so no ``.backward()`` is ever called.  ``install()``
wraps ``step``, ``step_and_cost`` and ``step_and_cost_and_grad`` on every
class of ``pennylane.optimize`` that defines them itself (in PennyLane 0.45:
``GradientDescentOptimizer``, whose methods Adam, Adagrad, Momentum, Nesterov,
RMSProp and MomentumQNG inherit; ``QNGOptimizer``, ``SPSAOptimizer``,
``QNSPSAOptimizer``, ``ShotAdaptiveOptimizer``, ``RotosolveOptimizer``,
``RotoselectOptimizer``, ``RiemannianGradientOptimizer``, ``AdaptiveOptimizer``
and the QJIT ones), and their subclasses.  A user's subclass defining its own
``step`` counts where it calls the inherited one.

Each outermost call is one step (``QNGOptimizer.step`` calls its own
``step_and_cost``: one step, not two; a ``.backward()`` inside a step is not
another).  ``step_and_cost``'s cost (the objective before the step) is the
step's loss, as a float; ``step`` returns no cost, so its step has none.
Nothing the optimizer computes or returns is changed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

#: The optimizer methods that make one training step.
METHODS: tuple[str, ...] = ("step", "step_and_cost", "step_and_cost_and_grad")

#: Where the cost sits in ``step_and_cost``'s result, where it is not second
#: (``(new_params, generators, cost)``, ``(new_params, new_state, cost)``).
COST_INDEX: dict[str, int] = {"RotoselectOptimizer": 2, "QNGOptimizerQJIT": 2}

#: ``on_step(loss)``: one step ended; ``loss`` its cost, None for ``step``.
OnStep = Callable[[float | None], None]

_MARK = "__qtui_pl_step__"
_ACTIVE: OnStep | None = None
_LOCAL = threading.local()


def in_step() -> bool:
    """True inside an optimizer's step (a ``.backward()`` there is not a step of its own)."""
    return bool(getattr(_LOCAL, "depth", 0))


def cost_value(cost: Any) -> float | None:
    """A cost as a float (numpy, PennyLane's numpy, autograd, torch, jax scalars); None
    when it is not one number (a step still counts, with no loss)."""
    import numpy as np

    if hasattr(cost, "detach"):
        cost = cost.detach().cpu()
    try:
        arr = np.asarray(cost, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def _wrap(fn: Callable[..., Any], name: str, cost_index: int) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        on_step = _ACTIVE
        if on_step is None:
            return fn(self, *args, **kwargs)
        depth = getattr(_LOCAL, "depth", 0)
        _LOCAL.depth = depth + 1
        try:
            result = fn(self, *args, **kwargs)
        finally:
            _LOCAL.depth = depth
        if depth == 0:
            loss = None
            if name != "step" and isinstance(result, (tuple, list)) and len(result) > cost_index:
                loss = cost_value(result[cost_index])
            on_step(loss)
        return result

    setattr(wrapper, _MARK, True)
    return wrapper


def _classes() -> list[type]:
    """The optimizer classes of ``pennylane.optimize`` and their subclasses, once each."""
    import pennylane.optimize as optimize

    seen: dict[type, None] = {}
    todo = [c for c in vars(optimize).values() if isinstance(c, type)]
    while todo:
        cls = todo.pop()
        if cls not in seen and cls.__module__.startswith("pennylane"):
            seen[cls] = None
            todo += cls.__subclasses__()
    return list(seen)


def install() -> None:
    """Wrap the step methods every optimizer class defines itself (once per process;
    the wrappers do nothing but one check while no run watches, ``watch``)."""
    for cls in _classes():
        index = COST_INDEX.get(cls.__name__, 1)
        for name in METHODS:
            fn = cls.__dict__.get(name)
            if callable(fn) and not getattr(fn, _MARK, False):
                setattr(cls, name, _wrap(fn, name, index))


def watch(on_step: OnStep | None) -> None:
    """Report every outermost optimizer step to ``on_step`` from now on (None: stop)."""
    global _ACTIVE
    _ACTIVE = on_step
