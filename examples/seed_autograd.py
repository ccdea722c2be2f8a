"""The PyTorch autograd tutorial study, re-run with crossgrad in place of torch.

    python examples/seed_autograd.py

Every experiment of the study, in order, printing what the notebook printed; then crossgrad
cross-checks the seed graph and the seed network's gradients three ways. Random values
differ from the notebook's (crossgrad's generator is numpy's PCG64, not PyTorch's), and the
FashionMNIST sample is replaced by a deterministic synthetic 28x28 image (no download).
"""

from __future__ import annotations

import crossgrad as torch
import numpy as np
from crossgrad import nn


def seed_graph(seed: int | None = None):
    """x = ones(5), y = zeros(3), z = x @ w + b, loss = BCE-with-logits(z, y)."""
    if seed is not None:
        torch.manual_seed(seed)
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    return x, y, w, b, z, loss


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


def synthetic_sample():
    """A fixed 1x28x28 image in [0, 1] (two soft blobs) and its label, standing in for FashionMNIST."""
    r, c = np.mgrid[0:28, 0:28] / 27.0
    image = np.exp(-((r - 0.3) ** 2 + (c - 0.6) ** 2) / 0.02) + 0.5 * np.exp(-((r - 0.7) ** 2) / 0.01)
    return torch.tensor((image / image.max())[None].astype(np.float32)), 9


def train_loop(zero_grad: bool, steps: int = 10, lr: float = 1e-4, quiet: bool = False):
    """The study's 10 steps on one sample; returns the first 6 entries of parameters()[3].grad."""
    torch.manual_seed(1)
    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    X, label = synthetic_sample()
    seen = []
    for i in range(steps):
        y = torch.tensor(label).reshape([1])
        pred = model(X)
        loss = loss_fn(pred, y)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        head = list(model.parameters())[3].grad[0:6]
        seen.append(head.numpy().copy())
        if not quiet:
            print(f"{i}th loss.backward()", head)
        optimizer.step()
    return seen


def main() -> None:
    x, y, w, b, z, loss = seed_graph()
    print("x.shape, w.shape:", (x.shape, w.shape))
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    loss.backward()
    print("Derivative of w: ", w.grad)
    print("Derivative of b: ", b.grad)

    print("\n# a second backward() through the same graph")
    try:
        loss.backward()
    except RuntimeError as err:
        print("RuntimeError:", err)

    print("\n# no_grad and detach")
    z = torch.matmul(x, w) + b
    print(z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    print(z.requires_grad)
    z = torch.matmul(x, w) + b
    print("Before detach(): ", z.requires_grad)
    print("After detach(): ", z.detach().requires_grad)

    print("\n# backward() once, manual_seed(1)")
    *_, w, b, _, loss = seed_graph(seed=1)
    loss.backward()
    print("Derivative of w: ", w.grad)
    print("Derivative of b: ", b.grad)
    print("\n# backward(retain_graph=True) then backward(): the gradients double")
    *_, w2, b2, _, loss2 = seed_graph(seed=1)
    loss2.backward(retain_graph=True)
    loss2.backward()
    print("Derivative of w: ", w2.grad)
    print("Derivative of b: ", b2.grad)
    print("\n# backward() once, times 2: the same numbers")
    print("Derivative of w: ", w.grad * 2)
    print("Derivative of b: ", b.grad * 2)

    print("\n# Flatten-Linear(784,512)-ReLU-Linear(512,512)-ReLU-Linear(512,10), SGD(lr=1e-4)")
    print(NeuralNetwork())
    print("\n# with optimizer.zero_grad(): the same gradient every step")
    train_loop(zero_grad=True)
    print("\n# without optimizer.zero_grad(): gradients accumulate, growing linearly")
    train_loop(zero_grad=False)

    print("\n# crossgrad's own job: is the seed graph's gradient right? (numeric, SymPy, finite differences)")
    x, y, w, b, z, loss = seed_graph(seed=1)
    print(torch.check(loss, names={"w": w, "b": b}, formulas=True).leaf(b).closed_form[0])
    print(torch.check(loss, names={"w": w, "b": b}))
    print("\n# and every gradient element of the 784-512-512-10 network at batch 64")
    torch.manual_seed(0)
    model = NeuralNetwork()
    X, labels = torch.rand(64, 28, 28), torch.tensor(np.arange(64) % 10)
    loss = nn.CrossEntropyLoss()(model(X), labels)
    print(torch.check(loss, names=dict(model.named_parameters())))


if __name__ == "__main__":
    main()
