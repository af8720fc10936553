"""The forum's script, with only the broadcasting fix: the baseline for benchmarks/overhead.py.

No qtui imports: this is what a user would run by hand.  Same seeds, data,
model, construction order and loop as the forum (and as qtui's built-in
workload), so the per-epoch losses must match qtui's.  Times the training loop
only (what qtui reports as ``train_s``) and prints one JSON line:
``{"train_s": ..., "core_s": ..., "epoch_losses": [...], "accuracy": ...,
"minor_faults": ..., "major_faults": ...}`` (the page faults over the loop, as
qtui counts a run's).

    python benchmarks/plain_forum.py default.qubit backprop [epochs, default 6]
"""

from __future__ import annotations

import json
import os
import resource
import sys
from time import perf_counter, process_time

import numpy as np
import pennylane as qml
import torch
import torch.nn as nn
from sklearn.datasets import make_moons


class Model(nn.Module):
    def __init__(self, dev: object, diff_method: str = "backprop") -> None:
        super().__init__()
        self.cnet_in = self.cnet()
        qnode = qml.QNode(self.qnode, dev, interface="torch", diff_method=diff_method)
        if diff_method in ("parameter-shift", "finite-diff"):
            qnode = qml.transforms.broadcast_expand(qnode)  # no broadcast gradients there
        self.qlayer = qml.qnn.TorchLayer(qnode, {"weights": (2,)})
        self.cnet_out = self.cnet()

    def cnet(self) -> nn.Sequential:
        return nn.Sequential(nn.Linear(2, 10), nn.ReLU(True), nn.Linear(10, 2), nn.Tanh())

    @staticmethod
    def qnode(inputs: torch.Tensor, weights: torch.Tensor) -> list[object]:
        for x in range(inputs.shape[-1]):  # the fix: TorchLayer passes the whole batch
            qml.Hadamard(wires=x)
            qml.RZ(2.0 * inputs[..., x], wires=x)
        qml.CNOT(wires=[0, 1])
        qml.RY(weights[0], wires=0)
        qml.RY(weights[1], wires=1)
        return [qml.expval(qml.PauliZ(wires=0)), qml.expval(qml.PauliZ(wires=1))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnet_out(self.qlayer(self.cnet_in(x)))


def main(dev_name: str, diff_method: str, epochs: int = 6) -> None:
    torch.manual_seed(42)
    np.random.seed(42)
    X, y = make_moons(n_samples=200, noise=0.1)
    y_ = torch.unsqueeze(torch.tensor(y), 1)
    y_hot = torch.scatter(torch.zeros((200, 2)), 1, y_, 1).float()
    Xt = torch.tensor(X).float()

    model = Model(qml.device(dev_name, wires=2), diff_method)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    loss = torch.nn.L1Loss()
    batches = 200 // 5
    loader = torch.utils.data.DataLoader(
        list(zip(Xt, y_hot, strict=True)), batch_size=5, shuffle=True, drop_last=True
    )

    losses = []
    f0 = resource.getrusage(resource.RUSAGE_SELF)
    c0 = process_time()
    t0 = perf_counter()
    for _epoch in range(epochs):
        running = torch.zeros(())
        for xs, ys in loader:
            opt.zero_grad()
            value = loss(model(xs), ys)
            value.backward()
            opt.step()
            running = running + value.detach()
        losses.append(float(running / batches))
    train_s = perf_counter() - t0
    core_s = process_time() - c0  # every thread's CPU time, as qtui's core_s
    f1 = resource.getrusage(resource.RUSAGE_SELF)

    with torch.no_grad():
        predictions = torch.argmax(model(Xt), dim=1).numpy()
    accuracy = float(np.mean(predictions == y))
    print(json.dumps({"train_s": train_s, "core_s": core_s, "epoch_losses": losses,
                      "accuracy": accuracy, "minor_faults": f1.ru_minflt - f0.ru_minflt,
                      "major_faults": f1.ru_majflt - f0.ru_majflt}))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "default.qubit",
         sys.argv[2] if len(sys.argv) > 2 else "backprop",
         int(sys.argv[3]) if len(sys.argv) > 3 else 6)
    os._exit(0)
