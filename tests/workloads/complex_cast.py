"""A circuit whose complex output reaches a real loss under backprop.

The circuit returns ``qml.state()`` (complex amplitudes); ``TorchLayer`` casts
its output to the (real) dtype of its inputs, which makes torch warn "Casting
complex values to real discards the imaginary part" once per forward pass
(torch is told to warn always, so every occurrence is seen).  The test can
predict the count: ``CASTS_PER_FORWARD`` × (training steps + one evaluation pass).
"""

from __future__ import annotations

import pennylane as qml
import torch
from torch import nn

from qtui.engine.forum import make_data
from qtui.engine.workload import Workload, WorkloadContext

CASTS_PER_FORWARD = 1


def _circuit(inputs: torch.Tensor, weights: torch.Tensor) -> object:
    for i in range(inputs.shape[-1]):
        qml.Hadamard(wires=i)
        qml.RZ(2.0 * inputs[..., i], wires=i)
    qml.CNOT(wires=[0, 1])
    qml.RY(weights[0], wires=0)
    qml.RY(weights[1], wires=1)
    return qml.state()


class Model(nn.Module):
    def __init__(self, ctx: WorkloadContext) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 2), nn.Tanh())
        self.q = ctx.torch_layer(_circuit, {"weights": (2,)}, wires=2)
        self.out = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.q(self.inp(x))
        return self.out(state.float())  # already real: TorchLayer cast it (and torch warned)


def build(ctx: WorkloadContext) -> Workload:
    p = ctx.params
    x, y_hot, y = make_data(p.samples, p.noise)
    model = Model(ctx)
    loader = torch.utils.data.DataLoader(
        list(zip(x, y_hot, strict=True)), batch_size=p.batch_size, shuffle=True, drop_last=True
    )

    def evaluate(m: nn.Module) -> float:
        with torch.no_grad():
            return float((torch.argmax(m(x), dim=1).numpy() == y).mean())

    return Workload(
        model=model,
        train_data=loader,
        loss_fn=nn.L1Loss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=p.lr),
        epochs=p.epochs,
        batches_per_epoch=max(1, p.samples // p.batch_size),
        evaluate=evaluate,
    )
