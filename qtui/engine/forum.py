"""The forum's model and data, number for number (the built-in default workload).

Linear(2,10)-ReLU-Linear(10,n)-Tanh -> TorchLayer(n qubits) -> Linear(n,10)-ReLU-
Linear(10,2)-Tanh on ``make_moons``; SGD, L1 loss, shuffled batches with
``drop_last``.  With the defaults (2 qubits, 1 layer) the per-epoch losses are
the forum's: 0.5108 0.4007 0.2492 0.2128 0.1894 0.1919, 88.0 % accuracy.

The circuit is the forum's with the broadcasting fix: it iterates over
``inputs.shape[-1]`` and uses ``inputs[..., i]`` because ``TorchLayer`` now passes
the whole batch.  ``layers`` repeats the CNOT chain + RY block; for more than
two qubits the CNOTs form a chain 0-1, 1-2, ...

Construction order matters for the numbers: the data is drawn first (numpy's
global RNG), then the input net, the quantum weights and the output net
(torch's RNG), then the DataLoader shuffles with torch's RNG.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pennylane as qml
import torch
from sklearn.datasets import make_moons
from torch import nn

from qtui.engine.workload import Workload, WorkloadContext


def _classical(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, 10), nn.ReLU(True), nn.Linear(10, n_out), nn.Tanh())


def make_circuit(qubits: int, layers: int) -> Any:
    """The forum circuit, broadcasting-correct, generalised to n qubits and layers."""

    def circuit(inputs: torch.Tensor, weights: torch.Tensor) -> list[Any]:
        for i in range(inputs.shape[-1]):
            qml.Hadamard(wires=i)
            qml.RZ(2.0 * inputs[..., i], wires=i)
        w = weights.reshape(layers, qubits)
        for layer in range(layers):
            for i in range(qubits - 1):
                qml.CNOT(wires=[i, i + 1])
            for i in range(qubits):
                qml.RY(w[layer, i], wires=i)
        return [qml.expval(qml.PauliZ(wires=i)) for i in range(qubits)]

    return circuit


class ForumModel(nn.Module):
    def __init__(self, ctx: WorkloadContext) -> None:
        super().__init__()
        n = ctx.params.qubits
        layers = ctx.params.layers
        self.cnet_in = _classical(2, n)
        shape = (n,) if layers == 1 else (layers, n)
        self.qlayer = ctx.torch_layer(make_circuit(n, layers), {"weights": shape}, wires=n)
        self.cnet_out = _classical(n, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnet_out(self.qlayer(self.cnet_in(x)))


def make_data(samples: int, noise: float) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``make_moons`` drawn from numpy's global RNG, as the forum does."""
    x, y = make_moons(n_samples=samples, noise=noise)
    y_ = torch.unsqueeze(torch.tensor(y), 1)
    y_hot = torch.scatter(torch.zeros((samples, 2)), 1, y_, 1)
    return torch.tensor(x).float(), y_hot.float(), y


def build(ctx: WorkloadContext) -> Workload:
    p = ctx.params
    x, y_hot, y = make_data(p.samples, p.noise)
    model = ForumModel(ctx)
    optimizer = torch.optim.SGD(model.parameters(), lr=p.lr)
    pairs: Any = list(zip(x, y_hot, strict=True))
    loader: torch.utils.data.DataLoader[Any] = torch.utils.data.DataLoader(
        pairs, batch_size=p.batch_size, shuffle=True, drop_last=True
    )

    def evaluate(m: nn.Module) -> float:
        with torch.no_grad():
            predictions = torch.argmax(m(x), dim=1).numpy()
        return float(np.mean(predictions == y))

    return Workload(
        model=model,
        train_data=loader,
        loss_fn=nn.L1Loss(),
        optimizer=optimizer,
        epochs=p.epochs,
        batches_per_epoch=max(1, p.samples // p.batch_size),
        evaluate=evaluate,
        info={"circuit": f"{p.qubits} qubits, {p.layers} layer(s)"},
    )
