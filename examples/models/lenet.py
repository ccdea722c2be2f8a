"""LeNet-5 on 28x28 images, written as PyTorch code: runs with `import crossgrad as torch`.

    python examples/models/lenet.py            # 10 SGD-momentum steps, then crossgrad.check(loss)
    python examples/models/lenet.py --torch    # the same with real PyTorch

`build`, `init` and `train` take the library as an argument so tests run both on the same data.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def build(torch: Any, dtype: Any = None) -> Any:
    nn = torch.nn

    class LeNet5(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2, dtype=dtype)
            self.pool = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(6, 16, 5, dtype=dtype)
            self.fc1 = nn.Linear(16 * 5 * 5, 120, dtype=dtype)
            self.fc2 = nn.Linear(120, 84, dtype=dtype)
            self.fc3 = nn.Linear(84, 10, dtype=dtype)

        def forward(self, x: Any) -> Any:
            x = self.pool(torch.relu(self.conv1(x)))
            x = self.pool(torch.relu(self.conv2(x)))
            x = x.flatten(1)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    return LeNet5()


def init(torch: Any, model: Any, dtype: Any, seed: int = 0) -> None:
    """Deterministic parameters from numpy (the same in torch and crossgrad)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            fan_in = int(np.prod(p.shape[1:])) if len(p.shape) > 1 else p.shape[0]
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(p.shape))).to(dtype))


def data(torch: Any, batch: int, dtype: Any, seed: int = 1) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.random((batch, 1, 28, 28))).to(dtype)
    return x, torch.tensor(rng.integers(0, 10, batch))


def train(torch: Any, steps: int = 10, batch: int = 16, dtype: Any = None, lr: float = 0.05) -> tuple[Any, list]:
    """`steps` SGD-momentum steps on one batch; returns the model and the losses."""
    dtype = dtype or torch.float32
    model = build(torch, dtype)
    init(torch, model, dtype)
    x, y = data(torch, batch, dtype)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return model, losses


def main() -> None:
    if "--torch" in sys.argv:
        import torch
    else:
        import crossgrad as torch  # type: ignore[no-redef]
    model, losses = train(torch)
    print("losses:", " ".join(f"{v:.4f}" for v in losses))
    if torch.__name__ == "crossgrad":
        x, y = data(torch, 4, torch.float32)
        loss = torch.nn.CrossEntropyLoss()(model(x), y)
        names = dict(model.named_parameters())
        print(torch.check(loss, names=names))


if __name__ == "__main__":
    main()
