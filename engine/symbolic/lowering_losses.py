"""SymPy forward lowering of the pointwise losses: the elementwise loss from its definition
(abs, the Piecewise smooth/huber branches, target (log target - input), the cross entropy of
probabilities), times the weight, then the reduction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .cross_entropy import _weighted_mean
from .templates import Group, Stage, args, elementwise, grid, reduce_rows
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


def lower_nll(shapes: Shapes, at: dict, targets: np.ndarray | None) -> list[Stage]:
    """Per sample: -input[i, t_i] (times w[t_i]); ignored samples 0; then the reduction."""
    if targets is None:
        raise NotImplementedError("nll_loss: the targets must be an int64 leaf for the symbolic witness")
    x = tuple(shapes[0])
    weighted = shapes[2] is not None
    rows = grid(x).reshape(-1, x[-1])
    t = np.asarray(targets).reshape(-1)
    valid, ignored = np.flatnonzero(t != at["ignore_index"]), np.flatnonzero(t == at["ignore_index"])
    gather = rows[valid, t[valid]][:, None]
    s = args(2)
    if weighted:
        gather = np.concatenate([gather, t[valid][:, None]], axis=1)
    groups = [Group(-s[0] * s[1] if weighted else -s[0], (0, 2) if weighted else (0,), valid, gather)]
    if len(ignored):
        groups.append(Group(sp.Integer(0), (), ignored, np.zeros((len(ignored), 0), np.int64)))
    per = Stage(len(t), tuple(groups))
    if at["reduction"] == "none":
        return [per]
    if at["reduction"] == "sum":
        return [per, reduce_rows(np.arange(len(t)).reshape(1, -1), 3, lambda v: sp.Add(*v))]
    return [per, _weighted_mean(len(t), t, at, weighted)]


LOSS_OPS = tuple(_ELEMENT)
