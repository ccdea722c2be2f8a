"""Tutorial script: second-order checks — gradients of gradients.

    python docs/tutorials/second_order.py

1. create_graph: a gradient penalty (WGAN-GP style) built with crossgrad.autograd.grad is an
   ordinary graph: it trains, and crossgrad.check verifies its gradients three ways.
2. crossgrad.autograd.functional: the Hessian and a Hessian-vector product of a small function.
3. crossgrad.check(loss, order=2): Hessian-vector products checked three ways — and a tanh VJP
   that is right to first order but wrong at second order (it uses a detached output) is caught.
"""

from __future__ import annotations

import crossgrad as torch
import numpy as np
from crossgrad.autograd.functional import hessian, hvp
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule


def gradient_penalty() -> None:
    torch.manual_seed(0)
    w = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    critic = torch.tanh(x @ w).sum()
    (dx,) = torch.autograd.grad(critic, x, create_graph=True)
    penalty = ((dx.pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
    loss = critic + 10 * penalty
    report = torch.check(loss, names={"w": w, "x": x})
    print("gradient penalty:", report.verdict, "- dx has grad_fn", type(dx.grad_fn).__name__)
    assert report


def functional() -> None:
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    h = hessian(lambda t: (t ** 3).sum() + t[0] * t[1], x)
    print("hessian of sum(x^3) + x0 x1 at", x.tolist(), ":", h.tolist())
    assert np.allclose(h.numpy(), [[3.0, 1.0], [1.0, -6.0]])
    _, hv = hvp(lambda t: (t ** 3).sum(), x, torch.ones(2, dtype=torch.float64))
    print("hvp along ones:", hv.tolist())


def order_two() -> None:
    torch.manual_seed(1)
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.check(torch.tanh(x).sum(), order=2).verdict == "agree"
    tanh = RULES["tanh"]

    def detached(g, saved, node):  # 1 - y*y from a y that does not record: first order is right
        y = getattr(saved[1], "_data", saved[1])
        return (g * (1 - y * y),)

    RULES["tanh"] = Rule(tanh.forward, detached)
    try:
        first = torch.check(torch.tanh(x).sum())
        second = torch.check(torch.tanh(x).sum(), order=2)
    finally:
        RULES["tanh"] = tanh
    print(f"planted second-order bug: order 1 {first.verdict}, order 2 {second.verdict}")
    assert first.verdict == "agree" and second.verdict == "mismatch"


if __name__ == "__main__":
    gradient_penalty()
    functional()
    order_two()
