"""The smooth losses' kink: huber_loss at |input - target| == delta and smooth_l1_loss at
|input - target| == beta (beta > 0). The gradient is continuous there (both one-sided branches are
the rule's own VJP), the second derivative jumps (torch's double backward takes 0, the outer
branch): at order 2 such an element is a kink like relu's at 0 (engine/hessian_kinks.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .rules_losses import LOSS_RULES

BOUND = {"huber_loss": "delta", "smooth_l1_loss": "beta"}


def on_bound(op: str) -> Callable[[list[np.ndarray], dict], Any]:
    """Elements with |input - target| equal to the op's bound (none when the bound is 0)."""
    def at(ins: list[np.ndarray], attrs: dict) -> Any:
        bound = attrs[BOUND[op]]
        return np.zeros(np.shape(ins[0]), bool) if bound == 0 else np.abs(ins[0] - ins[1]) == bound
    return at


def branch(op: str) -> Callable[[int], Callable]:
    """Either side's VJP is the rule's own (the first derivative has no jump)."""
    return lambda side: LOSS_RULES[op].vjp
