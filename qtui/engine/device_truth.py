"""Device truth: what PennyLane actually executed during a run, seen from the device.

*(child)*  ``install()`` wraps the execution methods of every PennyLane device
class (``execute``, ``compute_derivatives``, ``execute_and_compute_derivatives``,
``compute_vjp``, ``execute_and_compute_vjp``, ``compute_jvp``,
``execute_and_compute_jvp``), those already loaded and those defined later
(``Device.__init_subclass__``, so ``lightning.qubit``, loaded by ``qml.device``,
is covered too).  Every QNode reaches a device through these methods, in a
``TorchLayer`` or not, whatever built its device (``qml.device`` or a device
class), so this sees all of them.  The wrappers are installed once per process
and do nothing but one check while no run is being watched (``watch()``); a
device method called from inside another (``execute_and_compute_derivatives``
calling ``execute``, a facade calling its legacy device) is counted once, as the
outer call.

Per device call it records the device (its short name, ``dev.name``: the
``qml.device`` name such as ``lightning.qubit``; its wires: the device's own
when it was given them, else the most wires a circuit of the batch uses; the
circuits' shots, ``None`` analytic), the circuits (tapes) in the batch, the diff
method PennyLane resolved for the execution (``execution_config.gradient_method``:
``backprop``, ``adjoint``, ``device``, or a gradient transform, named as the
``diff_method`` that asks for it: ``parameter-shift``, ``finite-diff``, ...;
``none`` where the QNode has no gradient method) and the seconds spent inside
the call.  The counts cover the measured training steps (warm-up excluded, as
``train_s``); evaluation after training is not watched.

**The counts, in PennyLane's words** (``qtui.core.device_counts``): device
calls (``executions``, the tracker's *batches*), circuits (the tapes in them,
the tracker's *simulations*) and states (the states those circuits evolved: a
tape broadcast over 5 inputs counts 5, ``tape.batch_size``, which PennyLane
has already computed, so counting it costs one attribute read per tape; the
tracker's *executions*).

**What "matches" means** (``Truth.mismatch``): a run asked for ``device+method``
matches when every circuit executed during training (warm-up included) ran on a
device whose short name is ``device`` and with the diff method ``method``.  For
``best``, the method is what PennyLane resolved: it must be the one qtui's
``ctx.torch_layer`` resolved ``best`` to when the workload used it, and may be
any resolved method otherwise.  A run in which no circuit executed matches
(nothing ran elsewhere).  A run that does not match fails with
``ForeignDevice`` (one line naming both), unless it was started with
``--allow-foreign-device``: then it is recorded under what ran
(``quantum.device``/``quantum.diff_method``, several joined with ``,``).

**Timing** (``qtui.engine.phases``): quantum time is time inside device calls,
split into forward and backward by when the calls happen.  With ``backprop``
the simulator's backward pass is PyTorch's autograd through the operations the
device recorded, which runs after the device call returned; on the sampled
steps (``sample_backward``) qtui times it with tensor hooks: from the first
gradient reaching an output of the execution to the last gradient reaching one
of its circuits' parameters.  ``execute_s`` is device-call time only.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

#: The device methods through which circuits are executed (PennyLane's Device API).
METHODS: tuple[str, ...] = (
    "execute",
    "compute_derivatives",
    "execute_and_compute_derivatives",
    "compute_vjp",
    "execute_and_compute_vjp",
    "compute_jvp",
    "execute_and_compute_jvp",
)

#: Gradient transforms by function name -> the ``diff_method`` string that asks for them.
TRANSFORM_NAMES: dict[str, str] = {
    "param_shift": "parameter-shift",
    "param_shift_cv": "parameter-shift",
    "finite_diff": "finite-diff",
    "spsa_grad": "spsa",
    "hadamard_grad": "hadamard",
}

_MARK = "__qtui_device_truth__"
_ACTIVE: Truth | None = None
_LOCAL = threading.local()
_INSTALLED = False
_ORIGINAL_INIT_SUBCLASS: Any = None
_perf = time.perf_counter


class ForeignDevice(Exception):
    """Circuits ran on a device or with a diff method other than the run's combination."""


def method_name(gradient_method: Any) -> str:
    """The ``diff_method`` string for an execution config's ``gradient_method``."""
    if gradient_method is None:
        return "none"
    if isinstance(gradient_method, str):
        return gradient_method
    fn = getattr(gradient_method, "transform", None) or gradient_method
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return TRANSFORM_NAMES.get(name, name)


class Truth:
    """What one run's devices executed (the child's record, one per run)."""

    def __init__(self) -> None:
        #: (name, wires, shots) -> [executions, circuits, states] over the measured steps
        self.devices: dict[tuple[str, int | None, int | None], list[int]] = {}
        #: (device name, method) pairs in first-seen order, over every training step
        self.ran: dict[tuple[str, str], None] = {}
        self.executions = 0
        self.circuits = 0
        self.states = 0
        self.execute_s = 0.0
        #: Cumulative quantum seconds for the phase split: device calls + timed backprop spans.
        self.quantum_s = 0.0
        #: Time the backprop backward of this step's executions (a sampled step).
        self.sample_backward = False
        self._spans: list[list[float]] = []

    # recording ------------------------------------------------------------------
    def record(self, dev: Any, circuits: Any, config: Any, seconds: float) -> None:
        tapes = _tapes(circuits)
        name = str(getattr(dev, "name", type(dev).__name__))
        method = method_name(getattr(config, "gradient_method", None))
        key = (name, _wires(dev, tapes), _shots(tapes))
        states = _states(tapes)
        counts = self.devices.get(key)
        if counts is None:
            counts = self.devices[key] = [0, 0, 0]
        counts[0] += 1
        counts[1] += len(tapes)
        counts[2] += states
        self.ran[(name, method)] = None
        self.executions += 1
        self.circuits += len(tapes)
        self.states += states
        self.execute_s += seconds
        self.quantum_s += seconds

    def watch_backprop(self, tapes: Any, results: Any) -> None:
        """Hooks timing the autograd backward through a backprop execution (sampled steps)."""
        outs = [r for r in _leaves(results) if getattr(r, "requires_grad", False)]
        if not outs:
            return
        span: list[float] = [0.0, 0.0]

        def started(_grad: Any) -> None:
            if not span[0]:
                span[0] = _perf()

        def ended(_grad: Any) -> None:
            span[1] = _perf()

        for out in outs:
            out.register_hook(started)
        for tape in _tapes(tapes):
            for p in tape.get_parameters(trainable_only=False):
                if getattr(p, "requires_grad", False):
                    p.register_hook(ended)
        self._spans.append(span)

    def settle(self) -> float:
        """Fold the closed backprop spans in; returns the cumulative quantum seconds."""
        if self._spans:
            for start, end in self._spans:
                if start and end > start:
                    self.quantum_s += end - start
            self._spans = []
        return self.quantum_s

    def reset_counts(self) -> None:
        """Start counting again (warm-up done); what ran so far is kept for the check."""
        self.devices = {k: [0, 0, 0] for k in self.devices}
        self.executions = self.circuits = self.states = 0
        self.execute_s = 0.0
        self._spans = []

    # questions ------------------------------------------------------------------
    def mismatch(self, device: str, method: str, resolved: str = "") -> str | None:
        """One line naming what was asked and what ran, or None when they match."""
        if not self.ran:
            return None
        want = resolved if method == "best" and resolved else method
        ok = all(
            d == device and (m == want or (method == "best" and not resolved and m != "none"))
            for d, m in self.ran
        )
        if ok:
            return None
        asked = f"{device}+{method}" + (f" (resolved: {resolved})" if method == "best" and resolved else "")
        ran = ", ".join(f"{d}+{m}" for d, m in self.ran)
        return f"asked for {asked}, circuits ran on {ran}"

    def actual(self) -> tuple[str, str]:
        """What ran: device name(s) and method(s), several joined with ``,``."""
        devices = list(dict.fromkeys(d for d, _ in self.ran))
        methods = list(dict.fromkeys(m for _, m in self.ran))
        return ",".join(devices), ",".join(methods)

    def report(self, steps: int, asked: str = "", foreign: bool = False) -> dict[str, Any]:
        """``run_finished.quantum``: the figures over ``steps`` measured steps (the
        per-step ones None without a step: there is nothing to divide by, not 0)."""
        device, method = self.actual()
        per = (lambda n: n / steps) if steps else (lambda n: None)
        return {
            "devices": [
                {"name": n, "wires": w, "shots": s, "executions": c[0], "circuits": c[1],
                 "states": c[2]}
                for (n, w, s), c in self.devices.items()
            ],
            "diff_methods": list(dict.fromkeys(m for _, m in self.ran)),
            "device": device,
            "diff_method": method,
            "executions": self.executions,
            "circuits": self.circuits,
            "states": self.states,
            "executions_per_step": per(self.executions),
            "circuits_per_step": per(self.circuits),
            "states_per_step": per(self.states),
            "execute_s": self.execute_s,
            "asked": asked if foreign else "",
            "foreign": foreign,
        }


def _tapes(circuits: Any) -> list[Any]:
    if hasattr(circuits, "operations"):  # one QuantumScript
        return [circuits]
    try:
        return list(circuits)
    except TypeError:
        return [circuits]


def _states(tapes: list[Any]) -> int:
    """The states the tapes evolve: a tape broadcast over ``n`` inputs evolves ``n``."""
    return sum(int(getattr(t, "batch_size", None) or 1) for t in tapes)


def _wires(dev: Any, tapes: list[Any]) -> int | None:
    wires = getattr(dev, "wires", None)
    if wires is not None:
        try:
            return len(wires)
        except TypeError:
            pass
    used = [int(getattr(t, "num_wires", 0) or 0) for t in tapes]
    return max(used) if used else None


def _shots(tapes: list[Any]) -> int | None:
    for t in tapes:
        shots = getattr(t, "shots", None)
        total = getattr(shots, "total_shots", None)
        if total is not None:
            return int(total)
    return None


def _leaves(results: Any) -> list[Any]:
    if isinstance(results, (tuple, list)):
        out: list[Any] = []
        for r in results:
            out += _leaves(r)
        return out
    return [results]


def _config(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    config = kwargs.get("execution_config")
    if config is None:
        for a in args[1:]:
            if hasattr(a, "gradient_method"):
                return a
    return config


def _wrap(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        truth = _ACTIVE
        if truth is None or getattr(_LOCAL, "inside", False):
            return fn(self, *args, **kwargs)
        _LOCAL.inside = True
        t0 = _perf()
        try:
            result = fn(self, *args, **kwargs)
        finally:
            _LOCAL.inside = False
        seconds = _perf() - t0
        circuits = args[0] if args else kwargs.get("circuits")
        config = _config(args, kwargs)
        truth.record(self, circuits, config, seconds)
        if (
            truth.sample_backward
            and name == "execute"
            and getattr(config, "gradient_method", None) == "backprop"
        ):
            truth.watch_backprop(circuits, result)
        return result

    setattr(wrapper, _MARK, True)
    return wrapper


def _wrap_class(cls: type) -> None:
    for name in METHODS:
        fn = cls.__dict__.get(name)
        if fn is None or not callable(fn) or getattr(fn, _MARK, False):
            continue
        setattr(cls, name, _wrap(fn, name))


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        out.append(sub)
        out += _subclasses(sub)
    return out


def install() -> None:
    """Wrap every PennyLane device class, now and as new ones are defined (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from pennylane.devices import Device

    for cls in [Device, *_subclasses(Device)]:
        _wrap_class(cls)
    global _ORIGINAL_INIT_SUBCLASS
    _ORIGINAL_INIT_SUBCLASS = original = Device.__dict__["__init_subclass__"]

    def init_subclass(cls: type, **kwargs: Any) -> None:
        original.__func__(cls, **kwargs)
        _wrap_class(cls)

    Device.__init_subclass__ = classmethod(init_subclass)  # type: ignore[assignment,method-assign]
    _INSTALLED = True


def uninstall() -> None:
    """Put every device class back as it was (benchmarks measure a baseline with it)."""
    global _INSTALLED
    if not _INSTALLED:
        return
    from pennylane.devices import Device

    for cls in [Device, *_subclasses(Device)]:
        for name in METHODS:
            fn = cls.__dict__.get(name)
            if fn is not None and getattr(fn, _MARK, False):
                setattr(cls, name, fn.__wrapped__)
    Device.__init_subclass__ = _ORIGINAL_INIT_SUBCLASS  # type: ignore[method-assign]
    _INSTALLED = False


def watch(truth: Truth | None) -> None:
    """Record device calls into ``truth`` from now on (``None``: stop)."""
    global _ACTIVE
    _ACTIVE = truth
