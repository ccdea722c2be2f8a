"""SymPy forward lowering of the pointwise losses: the elementwise loss from its definition
(abs, the Piecewise smooth/huber branches, target (log target - input), the cross entropy of
probabilities), times the weight, then the reduction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Stage, elementwise, reduce_rows
from .templates import exact_number as _num

Shapes = Sequence[Any]


def _smooth_l1(at: dict) -> Callable[[sp.Expr, sp.Expr], sp.Expr]:
    beta = _num(at["beta"])
    if beta == 0:
        return lambda a, b: sp.Abs(a - b)
    return lambda a, b: sp.Piecewise(((a - b) ** 2 / (2 * beta), sp.Abs(a - b) < beta),
                                     (sp.Abs(a - b) - beta / 2, True))


def _huber(at: dict) -> Callable[[sp.Expr, sp.Expr], sp.Expr]:
    delta = _num(at["delta"])
    return lambda a, b: sp.Piecewise(((a - b) ** 2 / 2, sp.Abs(a - b) <= delta),
                                     (delta * (sp.Abs(a - b) - delta / 2), True))


def _kl(at: dict) -> Callable[[sp.Expr, sp.Expr], sp.Expr]:
    if at["log_target"]:
        return lambda a, b: sp.exp(b) * (b - a)
    return lambda a, b: b * (sp.log(b) - a)


_ELEMENT: dict[str, Callable[[dict], Callable[..., sp.Expr]]] = {
    "l1_loss": lambda at: lambda a, b: sp.Abs(a - b),
    "smooth_l1_loss": _smooth_l1,
    "huber_loss": _huber,
    "kl_div": _kl,
    "binary_cross_entropy": lambda at: lambda a, b: -(b * sp.log(a) + (1 - b) * sp.log(1 - a)),
}


def lower_loss(op: str, shapes: Shapes, at: dict) -> list[Stage]:
    present = [i for i in range(len(shapes)) if shapes[i] is not None]
    element = _ELEMENT[op](at)

    def loss(*vals: sp.Expr) -> sp.Expr:
        out = element(vals[0], vals[1])
        return out * vals[2] if len(vals) > 2 else out

    x = tuple(shapes[0])
    stage = elementwise(loss, [tuple(shapes[i]) for i in present], present, x)
    reduction = at["reduction"]
    if reduction == "none":
        return [stage]
    count = x[0] if reduction == "batchmean" and x else max(stage.size, 1)
    divide = 1 if reduction == "sum" else count
    return [stage, reduce_rows(np.arange(stage.size).reshape(1, -1), len(shapes), lambda v: sp.Add(*v) / divide)]


LOSS_OPS = tuple(_ELEMENT)
