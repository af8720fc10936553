"""A tiny hybrid training written the plain PennyLane-demo way (no qtui in it)."""

import argparse
import os

import pennylane as qml
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=20)
parser.add_argument("--os-exit", type=int, default=None, help="end with os._exit(CODE), skipping teardown")
args = parser.parse_args()

torch.manual_seed(0)
dev = qml.device("default.qubit", wires=2)


@qml.qnode(dev, interface="torch", diff_method="backprop")
def circuit(inputs, weights):
    qml.AngleEmbedding(inputs, wires=range(2))
    qml.BasicEntanglerLayers(weights, wires=range(2))
    return [qml.expval(qml.PauliZ(w)) for w in range(2)]


qlayer = qml.qnn.TorchLayer(circuit, {"weights": (1, 2)})
model = torch.nn.Sequential(torch.nn.Linear(2, 2), qlayer, torch.nn.Linear(2, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.2)
x = torch.rand(8, 2)
y = torch.rand(8, 1)
for _ in range(args.steps):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
print(f"final loss {loss.item():.4f}", flush=True)
if args.os_exit is not None:
    os._exit(args.os_exit)  # as many torch scripts do, to skip a slow interpreter teardown
