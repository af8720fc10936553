"""PennyLane's demo "Turning quantum nodes into Torch Layers", as a qtui workload.

The demo's model, data and loop, line for line: ``make_moons`` (200 points,
noise 0.1), Linear(2,2) -> TorchLayer(AngleEmbedding + 6 BasicEntanglerLayers
on 2 qubits) -> Linear(2,2) -> Softmax, SGD at 0.2, L1 loss, batches of 5,
6 epochs.  The device and diff method come from qtui's combination; the
demo's own values are used when a parameter is left at qtui's default
(batch size 5, 6 epochs, learning rate 0.2 are qtui's defaults too).

    qtui run --workload examples.torchlayer_demo:build --device lightning.qubit --diff-method parameter-shift

``benchmarks/phase_split.py`` times the same model in a plain script.
"""

from __future__ import annotations

from typing import Any

import pennylane as qml
import torch
from sklearn.datasets import make_moons

from qtui.engine.workload import Workload, WorkloadContext

N_QUBITS = 2
N_LAYERS = 6


def circuit(inputs: torch.Tensor, weights: torch.Tensor) -> list[Any]:
    qml.AngleEmbedding(inputs, wires=range(N_QUBITS))
    qml.BasicEntanglerLayers(weights, wires=range(N_QUBITS))
    return [qml.expval(qml.PauliZ(wires=i)) for i in range(N_QUBITS)]


def build(ctx: WorkloadContext) -> Workload:
    p = ctx.params
    x, y = make_moons(n_samples=200, noise=0.1)
    y_ = torch.unsqueeze(torch.tensor(y), 1)
    y_hot = torch.scatter(torch.zeros((200, 2)), 1, y_, 1).float()
    xt = torch.tensor(x, requires_grad=True).float()
    qlayer = ctx.torch_layer(circuit, {"weights": (N_LAYERS, N_QUBITS)}, wires=N_QUBITS)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), qlayer, torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))
    loader: Any = torch.utils.data.DataLoader(
        list(zip(xt, y_hot, strict=True)), batch_size=p.batch_size, shuffle=True, drop_last=True
    )

    def accuracy(m: torch.nn.Module) -> float:
        with torch.no_grad():
            return float((torch.argmax(m(xt), dim=1).numpy() == y).mean())

    return Workload(
        model=model,
        train_data=loader,
        loss_fn=torch.nn.L1Loss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=p.lr),
        epochs=p.epochs,
        batches_per_epoch=200 // p.batch_size,
        evaluate=accuracy,
        info={"circuit": "PennyLane's TorchLayer demo: 2 qubits, 6 entangler layers"},
    )
