"""A ResNet basic block (conv-bn-relu-conv-bn plus the skip), adaptive pooling and a linear head,
written as PyTorch code: runs with `import crossgrad as torch`.

    python examples/models/resnet_block.py            # 10 SGD-momentum steps, then crossgrad.check(loss)
    python examples/models/resnet_block.py --torch    # the same with real PyTorch
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def build(torch: Any, channels: int = 16, classes: int = 10, dtype: Any = None) -> Any:
    nn = torch.nn

    class BasicBlockNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype)
            self.bn1 = nn.BatchNorm2d(channels, dtype=dtype)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype)
            self.bn2 = nn.BatchNorm2d(channels, dtype=dtype)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(channels, classes, dtype=dtype)

        def forward(self, x: Any) -> Any:
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out = torch.relu(out + x)
            return self.fc(self.pool(out).flatten(1))

    return BasicBlockNet()


def init(torch: Any, model: Any, dtype: Any, seed: int = 0) -> None:
    """Deterministic parameters from numpy (batch-norm weights near 1), the same in both libraries."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("bn"):
                value = rng.uniform(0.5, 1.5, tuple(p.shape)) if name.endswith("weight") else rng.uniform(
                    -0.2, 0.2, tuple(p.shape))
            else:
                bound = 1.0 / np.sqrt(int(np.prod(p.shape[1:])))
                value = rng.uniform(-bound, bound, tuple(p.shape))
            p.copy_(torch.tensor(value).to(dtype))


def data(torch: Any, batch: int, dtype: Any, channels: int = 16, size: int = 8, seed: int = 1) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((batch, channels, size, size))).to(dtype)
    return x, torch.tensor(rng.integers(0, 10, batch))


def train(torch: Any, steps: int = 10, batch: int = 8, dtype: Any = None, lr: float = 0.05,
          channels: int = 16, size: int = 8) -> tuple[Any, list]:
    """`steps` SGD-momentum steps on one batch (batch norm in training mode); the model and losses."""
    dtype = dtype or torch.float32
    model = build(torch, channels, dtype=dtype)
    init(torch, model, dtype)
    x, y = data(torch, batch, dtype, channels, size)
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
    print("bn1.running_mean:", np.round(np.asarray(model.bn1.running_mean.tolist()), 4))
    if torch.__name__ == "crossgrad":
        x, y = data(torch, 4, torch.float32)
        loss = torch.nn.CrossEntropyLoss()(model(x), y)
        print(torch.check(loss, names=dict(model.named_parameters())))


if __name__ == "__main__":
    main()
