"""The workload interface: how a model, its data, loss and optimiser reach the engine.

A workload is a function ``build(ctx: WorkloadContext) -> Workload``, named on
the command line as ``module:function`` (``--workload mypkg.bench:build``).  The
engine seeds torch and numpy with ``ctx.params.seed`` *before* calling it, owns
the training loop (so timing, phases, losses and warnings are measured the same
way for every workload), and calls ``evaluate`` once after training.

The quantum layer must come from ``ctx.torch_layer(circuit, weight_shapes)``:
that builds the device and QNode for the run's device and diff method, resolves
``best``, and splits broadcast batches for methods that cannot differentiate
them (parameter-shift, finite-diff).  The built-in forum workload
(``qtui.engine.forum:build``) uses this same interface.

This module runs in the child only (it imports torch and pennylane lazily).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qtui.core.config import WorkloadParams
from qtui.core.parameters import WORKLOAD_KNOBS

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Methods whose gradient transforms cannot differentiate a broadcast tape with
#: respect to broadcast inputs (PennyLane issue 6078): the batch is split.
SPLIT_BATCH_METHODS = frozenset({"parameter-shift", "finite-diff"})


class WorkloadError(Exception):
    """The workload could not be loaded or did not return what the interface needs."""


#: What ``scheduler_step`` may say.
SCHEDULER_STEPS = ("epoch", "step")


@dataclass
class Metric:
    """One named result of ``evaluate``: its value and which way is better."""

    value: float
    higher_is_better: bool = True


@dataclass
class Workload:
    """What ``build`` returns.

    ``train_data`` is iterated once per epoch and yields ``(inputs, targets)``
    batches; ``batches_per_epoch`` is used for the per-epoch mean loss (the
    forum divides the summed batch losses by ``samples // batch_size``).
    ``evaluate(model)`` returns the accuracy in [0, 1], or ``None``, or named
    metrics with their direction (``normalise_metrics``).

    Optional fields (README, "Your own model"):

    - ``train_step(model, batch) -> loss``: replaces the built-in step (zero_grad,
      forward, loss, backward, step); the workload steps its own optimiser(s), so
      closures (LBFGS), clipping and several optimisers work.  Its phases are
      ``data``, ``step_quantum`` and ``step_classical`` (qtui cannot split
      forward from backward inside someone else's step).
    - ``scheduler``: a torch LR scheduler, stepped after every epoch or every
      step (``scheduler_step``).
    - ``unpack(batch) -> (inputs, targets)``: batches of any structure; or
      ``forward(model, batch) -> loss``: the whole forward pass and loss of a
      batch (multi-input models, dict batches); ``loss_fn`` may then be None.
    - ``validation_data``: batches evaluated (loss, no gradient) after every epoch.
    - ``params_used``: which of qtui's workload parameters (``WORKLOAD_KNOBS``)
      the workload reads; the others are not recorded as applied.
    """

    model: torch.nn.Module
    train_data: Iterable[Any]
    loss_fn: Callable[[Any, Any], torch.Tensor] | None
    optimizer: torch.optim.Optimizer | None
    epochs: int
    batches_per_epoch: int
    evaluate: Callable[[torch.nn.Module], Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    train_step: Callable[[torch.nn.Module, Any], Any] | None = None
    scheduler: Any = None
    scheduler_step: str = "epoch"
    unpack: Callable[[Any], tuple[Any, Any]] | None = None
    forward: Callable[[torch.nn.Module, Any], Any] | None = None
    validation_data: Iterable[Any] | None = None
    params_used: Iterable[str] | None = None

    def batch_loss(self, model: torch.nn.Module, batch: Any) -> Any:
        """The loss of one batch through ``forward``, or ``unpack`` + model + ``loss_fn``."""
        if self.forward is not None:
            return self.forward(model, batch)
        inputs, targets = self.unpack(batch) if self.unpack is not None else (batch[0], batch[1])
        assert self.loss_fn is not None  # check_workload
        return self.loss_fn(model(inputs), targets)


def normalise_metrics(value: Any) -> tuple[float | None, dict[str, dict[str, Any]]]:
    """``evaluate``'s answer as ``(accuracy, metrics)``.

    A number (or None) is the accuracy in [0, 1], as before: no named metrics.
    A dict maps a name to ``(value, "higher"|"lower")``, a ``Metric``, or
    ``{"value": v, "higher_is_better": b}``; its ``accuracy``, when it has one
    that is higher-is-better, is also the run's accuracy (the Acc. column).
    """
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return float(value), {}
    out: dict[str, dict[str, Any]] = {}
    for name, item in value.items():
        if isinstance(item, Metric):
            v, higher = item.value, item.higher_is_better
        elif isinstance(item, dict) and "value" in item:
            v, higher = item["value"], bool(item.get("higher_is_better", True))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and item[1] in ("higher", "lower"):
            v, higher = item[0], item[1] == "higher"
        else:
            raise WorkloadError(
                f"evaluate's metric {name!r} needs a direction: (value, 'higher') or (value, 'lower')"
            )
        out[str(name)] = {"value": float(v), "higher_is_better": bool(higher)}
    acc = out.get("accuracy")
    return (acc["value"] if acc and acc["higher_is_better"] else None), out


@dataclass
class WorkloadContext:
    """What the engine hands to ``build``."""

    device: str
    diff_method: str
    params: WorkloadParams
    #: filled in by ``torch_layer``: what ``best`` resolved to, and whether the
    #: batch is split for this method.
    resolved_diff_method: str = ""
    split_batch: bool = False

    def make_device(self, wires: int, shots: int | None = None, **device_kwargs: Any) -> Any:
        """The run's device (``--device``) with ``wires``; ``shots`` and ``device_kwargs``
        are passed to ``qml.device`` as they are.  (``ctx.device`` is the device's name.)"""
        import pennylane as qml

        if shots is not None:
            device_kwargs["shots"] = shots
        return qml.device(self.device, wires=wires, **device_kwargs)

    def qnode(
        self,
        circuit: Callable[..., Any],
        wires: int,
        shots: int | None = None,
        device_kwargs: dict[str, Any] | None = None,
        **qnode_kwargs: Any,
    ) -> Any:
        """A torch ``QNode`` over ``circuit`` on the run's device, with the run's diff
        method; ``qnode_kwargs`` (``grad_on_execution``, ...) go to ``qml.QNode``."""
        import pennylane as qml

        dev = self.make_device(wires, shots, **(device_kwargs or {}))
        return qml.QNode(circuit, dev, interface="torch", diff_method=self.diff_method, **qnode_kwargs)

    def torch_layer(
        self,
        circuit: Callable[..., Any],
        weight_shapes: dict[str, Any],
        wires: int,
        sample_inputs: Any = None,
        shots: int | None = None,
        device_kwargs: dict[str, Any] | None = None,
        qnode_kwargs: dict[str, Any] | None = None,
        **torch_layer_kwargs: Any,
    ) -> torch.nn.Module:
        """A ``qml.qnn.TorchLayer`` over ``circuit`` for this run's device and method.

        ``sample_inputs`` (default: zeros of length ``wires``) is used only to
        resolve ``best``, which PennyLane answers for a concrete tape.  ``shots``
        and ``device_kwargs`` go to ``qml.device``, ``qnode_kwargs`` (e.g.
        ``{"grad_on_execution": False}``) to ``qml.QNode``, the rest to ``TorchLayer``.
        """
        import pennylane as qml

        qnode = self.qnode(circuit, wires, shots, device_kwargs, **(qnode_kwargs or {}))
        method = self.diff_method
        if method == "best":
            method = _resolve_best(qnode, weight_shapes, wires, sample_inputs)
        self.resolved_diff_method = method
        if method in SPLIT_BATCH_METHODS:
            self.split_batch = True
            qnode = qml.transforms.broadcast_expand(qnode)
        return qml.qnn.TorchLayer(qnode, weight_shapes, **torch_layer_kwargs)


def _resolve_best(qnode: Any, weight_shapes: dict[str, Any], wires: int, sample: Any) -> str:
    """What PennyLane's ``best`` picks for this device and circuit."""
    import pennylane as qml
    import torch

    inputs = torch.zeros(wires) if sample is None else sample
    weights = {
        name: torch.zeros(shape if isinstance(shape, (tuple, list)) else (shape,))
        for name, shape in weight_shapes.items()
    }
    return str(qml.workflow.get_best_diff_method(qnode)(inputs, **weights))


def load_builder(spec: str, search_path: Sequence[str] = ()) -> Callable[[WorkloadContext], Workload]:
    """Import ``module:function``; a clear ``WorkloadError`` when that fails.

    The module is looked up on ``sys.path`` first (installed packages, the
    built-in forum), then in ``search_path`` (``--workload-path``; empty: the
    current directory).  Only the workload's own top-level module or package
    is loaded from there: the folders are *not* put on ``sys.path``, so other
    files in them (a planted ``sklearn.py``) are never imported by accident,
    and a package on ``sys.path`` is never shadowed by a folder of that name.
    """
    module_name, _, func_name = spec.partition(":")
    if not module_name or not func_name:
        raise WorkloadError(f"workload must look like module:function, got {spec!r}")
    folders = list(search_path) or [os.getcwd()]
    try:
        _load_top_level(module_name.partition(".")[0], folders)
        module = importlib.import_module(module_name)
    except Exception as exc:  # boundary: any import failure is the user's, raised as a WorkloadError naming it
        hint = ""
        if isinstance(exc, ModuleNotFoundError):
            hint = (
                f" (searched sys.path, then {', '.join(folders)}; the workload's folder is not "
                "on sys.path: import its neighbours relative to a package, or add their folder "
                "to PYTHONPATH)"
            )
        raise WorkloadError(
            f"workload module {module_name!r} does not import: {type(exc).__name__}: {exc}{hint}"
        ) from exc
    func = getattr(module, func_name, None)
    if func is None:
        raise WorkloadError(f"workload module {module_name!r} has no attribute {func_name!r}")
    if not callable(func):
        raise WorkloadError(f"workload {spec!r} is not callable")
    return func  # type: ignore[no-any-return]


def _load_top_level(name: str, folders: list[str]) -> None:
    """Load ``name`` from ``folders`` when ``sys.path`` does not have it (see ``load_builder``)."""
    if name in sys.modules or importlib.util.find_spec(name) is not None:
        return
    found = importlib.machinery.PathFinder.find_spec(name, folders)
    if found is None or found.loader is None:
        return  # import_module then raises ModuleNotFoundError, with the hint
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def check_workload(obj: Any, spec: str) -> Workload:
    """Check that ``build`` returned what the interface needs."""
    import torch

    if not isinstance(obj, Workload):
        raise WorkloadError(
            f"workload {spec!r} returned {type(obj).__name__}, expected qtui.engine.workload.Workload"
        )
    problems = []
    if not isinstance(obj.model, torch.nn.Module):
        problems.append("model is not a torch.nn.Module")
    if obj.train_step is None:
        if not isinstance(obj.optimizer, torch.optim.Optimizer):
            problems.append("optimizer is not a torch.optim.Optimizer")
        elif needs_closure(obj.optimizer):
            problems.append(
                f"{type(obj.optimizer).__name__}.step needs a closure, which the built-in step "
                "does not pass: provide train_step(model, batch) and call optimizer.step(closure) there"
            )
        if obj.forward is None and not callable(obj.loss_fn):
            problems.append("loss_fn is not callable")
    elif not callable(obj.train_step):
        problems.append("train_step is not callable")
    elif obj.optimizer is not None and not isinstance(obj.optimizer, torch.optim.Optimizer):
        problems.append("optimizer is not a torch.optim.Optimizer (or None)")
    for name in ("unpack", "forward", "evaluate"):
        if getattr(obj, name) is not None and not callable(getattr(obj, name)):
            problems.append(f"{name} is not callable")
    if not hasattr(obj.train_data, "__iter__"):
        problems.append("train_data is not iterable")
    if obj.validation_data is not None:
        if not hasattr(obj.validation_data, "__iter__"):
            problems.append("validation_data is not iterable")
        elif obj.forward is None and not callable(obj.loss_fn):
            problems.append("validation_data needs forward or loss_fn to compute its loss")
    if obj.scheduler is not None and not callable(getattr(obj.scheduler, "step", None)):
        problems.append("scheduler has no step()")
    if obj.scheduler_step not in SCHEDULER_STEPS:
        problems.append(f"scheduler_step is {obj.scheduler_step!r}, not 'epoch' or 'step'")
    if obj.params_used is not None:
        if isinstance(obj.params_used, str):
            problems.append("params_used is a string, not a set of parameter names")
        else:
            unknown = sorted(set(obj.params_used) - WORKLOAD_KNOBS)
            if unknown:
                problems.append(
                    f"params_used names {', '.join(unknown)}, not among {', '.join(sorted(WORKLOAD_KNOBS))}"
                )
    if problems:
        raise WorkloadError(f"workload {spec!r}: " + "; ".join(problems))
    return obj


def needs_closure(optimizer: Any) -> bool:
    """Does ``optimizer.step`` require a closure (LBFGS and the like)?"""
    import inspect

    try:
        sig = inspect.signature(optimizer.step)
    except (TypeError, ValueError):
        return False
    p = sig.parameters.get("closure")
    return p is not None and p.default is inspect.Parameter.empty
