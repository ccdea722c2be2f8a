"""SymPy forward definitions of the everyday-ops sweep's catalogue ops (cumprod, atan2, hardswish,
hardsigmoid, mish). Forward only: every derivative comes from ``sympy.diff`` of these; the
piecewise ops put each bound in the branch whose slope torch 2.13 gives there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Group, Stage, args, gather_only, grid, rows_last


def _hardswish(x: sp.Expr) -> sp.Expr:
    return sp.Piecewise((0, x <= -3), (x * (x + 3) / 6, x < 3), (x, True))


def _hardsigmoid(x: sp.Expr) -> sp.Expr:
    return sp.Piecewise((0, x <= -3), ((x + 3) / 6, x < 3), (1, True))


def _mish(x: sp.Expr) -> sp.Expr:
    return x * sp.tanh(sp.log(1 + sp.exp(x)))


UNARY_EVERYDAY = {
    "hardswish": lambda at: _hardswish,
    "hardsigmoid": lambda at: _hardsigmoid,
    "mish": lambda at: _mish,
}
BINARY_EVERYDAY = {"atan2": sp.atan2}


def lower_cumprod(shapes: Sequence[Any], at: dict) -> list[Stage]:
    """out[..., k, ...] = product of in[..., :k+1, ...]: one group per prefix length."""
    shape = tuple(shapes[0])
    if not shape:
        return [gather_only(grid(shape), 0)]
    dim = at["dim"] % len(shape)
    rows = rows_last(shape, (dim,))
    out = np.moveaxis(grid(shape), dim, -1).reshape(-1, shape[dim])
    groups = tuple(Group(sp.Mul(*args(k + 1)), (0,) * (k + 1), out[:, k], rows[:, : k + 1])
                   for k in range(shape[dim]))
    return [Stage(int(np.prod(shape, dtype=np.int64)), groups)]
