"""Kink branches of hardswish and hardsigmoid at x = -3 and x = 3 (the everyday-ops sweep): side 0
takes the left slope, side 1 the right one, registered into kinks.BRANCHES/KINK_AT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# op -> (slope left of -3, right of -3, left of 3, right of 3) as functions of x
SLOPES: dict[str, Callable[[np.ndarray], tuple[Any, Any, Any, Any]]] = {
    "hardswish": lambda x: (0.0, -0.5, 1.5, 1.0),
    "hardsigmoid": lambda x: (0.0, 1 / 6, 1 / 6, 0.0),
}
_INSIDE = {"hardswish": lambda x: x / 3 + 0.5, "hardsigmoid": lambda x: np.full_like(x, 1 / 6)}
_OUTSIDE_HIGH = {"hardswish": 1.0, "hardsigmoid": 0.0}


def _branch(op: str) -> Callable[[int], Callable]:
    def rule(side: int) -> Callable:
        def vjp(g: np.ndarray, saved: Any, node: Any) -> tuple:
            x = saved[0]
            slopes = SLOPES[op](x)
            slope = np.where(x < -3, 0.0, np.where(x < 3, _INSIDE[op](x), _OUTSIDE_HIGH[op]))
            slope = np.where(x == -3, slopes[side], np.where(x == 3, slopes[2 + side], slope))
            return (g * slope.astype(g.dtype),)
        return vjp
    return rule


def register(branches: dict, kink_at: dict) -> None:
    for op in SLOPES:
        branches[op] = _branch(op)
        kink_at[op] = lambda ins, at: (ins[0] == -3) | (ins[0] == 3)
