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

from qtui.config import WorkloadParams

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Methods whose gradient transforms cannot differentiate a broadcast tape with
#: respect to broadcast inputs (PennyLane issue 6078): the batch is split.
SPLIT_BATCH_METHODS = frozenset({"parameter-shift", "finite-diff"})


class WorkloadError(Exception):
    """The workload could not be loaded or did not return what the interface needs."""


@dataclass
class Workload:
    """What ``build`` returns.

    ``train_data`` is iterated once per epoch and yields ``(inputs, targets)``
    batches; ``batches_per_epoch`` is used for the per-epoch mean loss (the
    forum divides the summed batch losses by ``samples // batch_size``).
    ``evaluate(model)`` returns the accuracy in [0, 1], or ``None``.
    """

    model: torch.nn.Module
    train_data: Iterable[Any]
    loss_fn: Callable[[Any, Any], torch.Tensor]
    optimizer: torch.optim.Optimizer
    epochs: int
    batches_per_epoch: int
    evaluate: Callable[[torch.nn.Module], float | None] | None = None
    info: dict[str, Any] = field(default_factory=dict)


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

    def make_device(self, wires: int) -> Any:
        import pennylane as qml

        return qml.device(self.device, wires=wires)

    def torch_layer(
        self,
        circuit: Callable[..., Any],
        weight_shapes: dict[str, Any],
        wires: int,
        sample_inputs: Any = None,
        **torch_layer_kwargs: Any,
    ) -> torch.nn.Module:
        """A ``qml.qnn.TorchLayer`` over ``circuit`` for this run's device and method.

        ``sample_inputs`` (default: zeros of length ``wires``) is used only to
        resolve ``best``, which PennyLane answers for a concrete tape.
        """
        import pennylane as qml

        dev = self.make_device(wires)
        qnode = qml.QNode(circuit, dev, interface="torch", diff_method=self.diff_method)
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
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to see
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
    if not isinstance(obj.optimizer, torch.optim.Optimizer):
        problems.append("optimizer is not a torch.optim.Optimizer")
    if not callable(obj.loss_fn):
        problems.append("loss_fn is not callable")
    if not hasattr(obj.train_data, "__iter__"):
        problems.append("train_data is not iterable")
    if not isinstance(obj.epochs, int) or obj.epochs < 1:
        problems.append("epochs is not a positive int")
    if not isinstance(obj.batches_per_epoch, int) or obj.batches_per_epoch < 1:
        problems.append("batches_per_epoch is not a positive int")
    if problems:
        raise WorkloadError(f"workload {spec!r}: " + "; ".join(problems))
    return obj
