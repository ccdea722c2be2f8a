"""SymPy forward definitions of the everyday-ops sweep's catalogue ops (cumprod, atan2, hardswish,
hardsigmoid, mish). Forward only: every derivative comes from ``sympy.diff`` of these; the
piecewise ops put each bound in the branch whose slope torch 2.13 gives there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Group, Stage, args, gather_only, grid


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
    """The running product along dim as a log-depth scan (Hillis-Steele): stage s multiplies each
    element by the one 2^s before it along the dim (elements nearer the start pass through), so
    every template is ``a * b`` or ``a`` — O(size log n) placeholders, and products of products
    are exact at zeros (no division anywhere)."""
    shape = tuple(shapes[0])
    if not shape or shape[at["dim"] % len(shape)] == 1:
        return [gather_only(grid(shape), 0)]
    dim = at["dim"] % len(shape)
    n, size = shape[dim], int(np.prod(shape, dtype=np.int64))
    pos = np.moveaxis(grid(shape), dim, -1).reshape(-1, n)  # (rows, n): flat index of each element
    a, b = args(2)
    stages: list[Stage] = []
    source, step = 0, 1
    while step < n:
        k = np.arange(n)
        late = k >= step
        times = Group(a * b, (source, source), pos[:, late].ravel(),
                      np.stack([pos[:, late].ravel(), pos[:, k[late] - step].ravel()], axis=1))
        kept = Group(a, (source,), pos[:, ~late].ravel(), pos[:, ~late].ravel()[:, None])
        stages.append(Stage(size, (times, kept)))
        source, step = len(stages), step * 2  # stage s is buffer 1 + s (one input)
    return stages
