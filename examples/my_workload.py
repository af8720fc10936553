"""A complete custom workload: a 3-qubit classifier on sklearn's iris data.

Run it with:  qtui run --workload examples.my_workload:build --device default.qubit --diff-method backprop
(from the repository root, or anywhere with this folder on PYTHONPATH).
"""

import pennylane as qml
import torch
from sklearn.datasets import load_iris

from qtui.engine.workload import Workload, WorkloadContext


def circuit(inputs, weights):
    qml.AngleEmbedding(inputs, wires=range(3))
    qml.StronglyEntanglingLayers(weights, wires=range(3))
    return [qml.expval(qml.PauliZ(i)) for i in range(3)]


def build(ctx: WorkloadContext) -> Workload:
    # qtui has already seeded torch and numpy with ctx.params.seed.
    x, y = load_iris(return_X_y=True)
    x = torch.tensor(x[:, :3], dtype=torch.float32)
    y = torch.tensor(y)
    qlayer = ctx.torch_layer(circuit, {"weights": (ctx.params.layers, 3, 3)}, wires=3)
    model = torch.nn.Sequential(qlayer, torch.nn.Linear(3, 3))
    data = torch.utils.data.DataLoader(
        list(zip(x, y)), batch_size=ctx.params.batch_size, shuffle=True, drop_last=True
    )

    def accuracy(m):
        with torch.no_grad():
            return float((m(x).argmax(dim=1) == y).float().mean())

    return Workload(
        model=model,
        train_data=data,
        loss_fn=torch.nn.CrossEntropyLoss(),
        optimizer=torch.optim.Adam(model.parameters(), lr=ctx.params.lr),
        epochs=ctx.params.epochs,
        batches_per_epoch=len(x) // ctx.params.batch_size,
        evaluate=accuracy,
    )
