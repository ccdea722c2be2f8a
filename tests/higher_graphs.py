"""A gradient-penalty graph and a 2-step MAML inner update, written once for torch and crossgrad."""

from __future__ import annotations

from typing import Any

import numpy as np


def _data(seed: int, *shapes: tuple) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def gradient_penalty(lib: Any) -> dict:
    """WGAN-GP: D(x) = tanh(x W1) w2; loss = mean D + 10 mean((|dD/dx| - 1)^2)."""
    w1a, w2a, xa = _data(3, (3, 4), (4,), (5, 3))
    w1, w2 = lib.tensor(w1a, requires_grad=True), lib.tensor(w2a, requires_grad=True)
    x = lib.tensor(xa, requires_grad=True)
    d = lib.tanh(x @ w1) @ w2
    (gx,) = lib.autograd.grad(d.sum(), x, create_graph=True)
    loss = d.mean() + 10 * (((gx * gx).sum(1)).sqrt() - 1).pow(2).mean()
    grads = lib.autograd.grad(loss, [w1, w2, x])
    return {"loss": float(loss.item()), "grads": [g.detach().numpy().tolist() for g in grads]}


def maml(lib: Any, lr: float = 0.1) -> dict:
    """Two inner steps w' = w - lr grad(L_support(w), w, create_graph=True), outer L_query(w'')."""
    wa, xs, ys, xq, yq = _data(5, (3, 2), (6, 3), (6, 2), (4, 3), (4, 2))

    def loss(w: Any, x: np.ndarray, y: np.ndarray) -> Any:
        return ((lib.tanh(lib.tensor(x) @ w) - lib.tensor(y)) ** 2).mean()

    w = lib.tensor(wa, requires_grad=True)
    fast = w
    for _ in range(2):
        (g,) = lib.autograd.grad(loss(fast, xs, ys), fast, create_graph=True)
        fast = fast - lr * g
    outer = loss(fast, xq, yq)
    (gw,) = lib.autograd.grad(outer, w)
    return {"loss": float(outer.item()), "grad": gw.detach().numpy().tolist()}
