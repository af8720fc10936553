"""Uses qtui.log and qtui.epoch; runs unchanged under plain python (a no-op there)."""

import torch

import qtui

w = torch.zeros(1, requires_grad=True)
for epoch in range(3):
    for _ in range(4):
        loss = ((w - 1.0) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
    qtui.log(accuracy=0.5 + 0.1 * epoch, lr=0.1)
    qtui.epoch()
print("done", float(w))
