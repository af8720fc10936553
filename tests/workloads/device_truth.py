"""Workloads for device truth (issue 12): QNodes qtui did not build.

``own_device``: the forum's model with its quantum layer replaced by a QNode the
workload builds itself on ``qml.device("default.qubit")`` with ``backprop``,
called outside any ``TorchLayer`` (as most real scripts do), whatever
combination the run was started as.  ``own_device_matching``: the same QNode
outside a ``TorchLayer``, but on the run's own device and diff method.
"""

from __future__ import annotations

from typing import Any

import pennylane as qml
import torch
from torch import nn

from qtui.engine.forum import _classical, make_circuit, make_data
from qtui.engine.workload import Workload, WorkloadContext


class OwnQNodeModel(nn.Module):
    """Linear -> a bare QNode (no TorchLayer) -> Linear, the forum's shapes."""

    def __init__(self, qnode: Any, qubits: int) -> None:
        super().__init__()
        self.cnet_in = _classical(2, qubits)
        self.weights = nn.Parameter(torch.rand(qubits) * 2 * torch.pi)
        self.qnode = qnode
        self.cnet_out = _classical(qubits, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = torch.stack(list(self.qnode(self.cnet_in(x), self.weights)), dim=-1).float()
        return self.cnet_out(q)


def _build(ctx: WorkloadContext, device: str, diff_method: str) -> Workload:
    p = ctx.params
    x, y_hot, _ = make_data(p.samples, p.noise)
    dev = qml.device(device, wires=p.qubits)
    qnode = qml.QNode(make_circuit(p.qubits, 1), dev, interface="torch", diff_method=diff_method)
    if diff_method in ("parameter-shift", "finite-diff"):
        qnode = qml.transforms.broadcast_expand(qnode)
    model = OwnQNodeModel(qnode, p.qubits)
    pairs: Any = list(zip(x, y_hot, strict=True))
    loader: Any = torch.utils.data.DataLoader(pairs, batch_size=p.batch_size, shuffle=True,
                                              drop_last=True)
    return Workload(
        model=model,
        train_data=loader,
        loss_fn=nn.L1Loss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=p.lr),
        epochs=p.epochs,
        batches_per_epoch=max(1, p.samples // p.batch_size),
    )


def own_device(ctx: WorkloadContext) -> Workload:
    """Always ``default.qubit`` + ``backprop``, whatever the run asked for."""
    return _build(ctx, "default.qubit", "backprop")


def own_device_matching(ctx: WorkloadContext) -> Workload:
    """A bare QNode on the run's own device and method (device truth must accept it)."""
    return _build(ctx, ctx.device, ctx.diff_method)
