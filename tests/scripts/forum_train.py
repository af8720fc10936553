"""The forum's hybrid model trained the forum's way: a plain script, no qtui in it.

make_moons (200 samples, noise 0.1), Linear-ReLU-Linear-Tanh -> TorchLayer(2 qubits)
-> Linear-ReLU-Linear-Tanh, SGD lr 0.2, L1 loss, batches of 5, 6 epochs; seed 42.
The circuit iterates over ``inputs.shape[-1]`` with ``inputs[..., i]`` (TorchLayer
passes the whole batch).  Prints the forum's per-epoch line.
"""

import numpy as np
import pennylane as qml
import torch
from sklearn.datasets import make_moons
from torch import nn

torch.manual_seed(42)
np.random.seed(42)

n_samples, n_qubits, epochs = 200, 2, 6
X, y = make_moons(n_samples=n_samples, noise=0.1)
y_ = torch.unsqueeze(torch.tensor(y), 1)
y_hot = torch.scatter(torch.zeros((n_samples, 2)), 1, y_, 1)
X = torch.tensor(X).float()
y_hot = y_hot.float()

dev = qml.device("default.qubit", wires=n_qubits)


@qml.qnode(dev, interface="torch", diff_method="backprop")
def qnode(inputs, weights):
    for i in range(inputs.shape[-1]):
        qml.Hadamard(wires=i)
        qml.RZ(2.0 * inputs[..., i], wires=i)
    qml.CNOT(wires=[0, 1])
    for i in range(n_qubits):
        qml.RY(weights[i], wires=i)
    return [qml.expval(qml.PauliZ(wires=i)) for i in range(n_qubits)]


cnet_in = nn.Sequential(nn.Linear(2, 10), nn.ReLU(True), nn.Linear(10, n_qubits), nn.Tanh())
qlayer = qml.qnn.TorchLayer(qnode, {"weights": (n_qubits,)})
cnet_out = nn.Sequential(nn.Linear(n_qubits, 10), nn.ReLU(True), nn.Linear(10, 2), nn.Tanh())
model = nn.Sequential(cnet_in, qlayer, cnet_out)

opt = torch.optim.SGD(model.parameters(), lr=0.2)
loss = nn.L1Loss()
batches = torch.utils.data.DataLoader(
    list(zip(X, y_hot, strict=True)), batch_size=5, shuffle=True, drop_last=True
)

for epoch in range(epochs):
    running_loss = 0
    for xs, ys in batches:
        opt.zero_grad()
        loss_evaluated = loss(model(xs), ys)
        loss_evaluated.backward()
        opt.step()
        running_loss += loss_evaluated
    avg_loss = running_loss / len(batches)
    print(f"Average loss over epoch {epoch + 1}: {avg_loss:.4f}")
