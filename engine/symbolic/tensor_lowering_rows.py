"""Staged row reductions for the tensor tier: logsumexp, var, std and the 1- and 2-norms.

lowering.py writes each as ONE template over its whole row (the exact tier's form): K
placeholders whose first partials each hold the whole row, so second derivatives (check
order 2) take K^2 SymPy derivatives and are refused past a few dozen elements. Here the same
forward definitions go through stages — an elementwise map, a plain row sum or mean (linear),
then a small per-element template — so every template is linear or has at most two
placeholders, at any row length, at either order. Same functions, same SymPy derivation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .. import shapes as S
from .lowering import zero_safe_sqrt
from .templates import Stage, elementwise, reduce_rows, rows_last
from .templates import exact_number as _num
from .tensor_lowering import _mean_of, _per_element, _row_of, _total, shifted_exp_rows

Shapes = Sequence[Any]


def _rows(op: str, shapes: Shapes, at: dict) -> tuple[tuple[int, ...], np.ndarray] | None:
    x = tuple(shapes[0])
    dims = S.norm_dims(op, at.get("dim"), len(x))
    if not x or not dims:
        return None
    return x, rows_last(x, dims)


def _map(fn: Any, source: int, size: int) -> Stage:
    return elementwise(fn, [(size,)], (source,), (size,))


def lower_logsumexp(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    """m + log(sum(exp(x - m))) over the row, m its max held constant (tensor_shift.py): the max,
    the shifted exp, a row sum, then m + log. An empty row: log(0) = -inf unshifted."""
    found = _rows("logsumexp", shapes, at)
    if found is None:
        return None
    x, rows = found
    n_in, size, m = len(shapes), rows.size, rows.shape[0]
    if not rows.shape[1]:
        return [_map(sp.exp, 0, size), reduce_rows(rows, n_in, _total), _map(sp.log, n_in + 1, m)]
    both = np.arange(m)
    return shifted_exp_rows(rows, n_in) + [_per_element(lambda top, s: top + sp.log(s), (n_in, n_in + 2), [both, both])]


def _variance(op: str, shapes: Shapes, at: dict) -> list[Stage] | None:
    """mean, d = x - mean, d^2, sum(d^2) / (K - correction)."""
    found = _rows(op, shapes, at)
    if found is None:
        return None
    x, rows = found
    count = rows.shape[1] - _num(at["correction"])
    if count <= 0:
        return None  # torch's inf/nan: lowering.py's form says so
    n_in, flat, row = len(shapes), np.arange(rows.size), _row_of(rows)
    return [reduce_rows(rows, 0, lambda xs: _mean_of(xs, rows.shape[1])),
            _per_element(lambda v, m: v - m, (0, n_in), [flat, row]),
            _map(lambda d: d * d, n_in + 1, rows.size),
            reduce_rows(rows, n_in + 2, lambda xs: sp.Mul(1 / count, sp.Add(*xs), evaluate=False))]


def lower_var(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    return _variance("var", shapes, at)


def lower_std(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    stages = _variance("std", shapes, at)
    if stages is None:
        return None
    return stages + [_map(zero_safe_sqrt, len(shapes) + 3, stages[-1].size)]


def lower_norm(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    """p = 2: sqrt(sum(x^2)); p = 1: sum(|x|); other p: lowering.py's form."""
    found = _rows("norm", shapes, at)
    if found is None or at["p"] not in (1, 2):
        return None
    x, rows = found
    n_in = len(shapes)
    if at["p"] == 1:
        return [_map(sp.Abs, 0, rows.size), reduce_rows(rows, n_in, _total)]
    return [_map(lambda v: v * v, 0, rows.size), reduce_rows(rows, n_in, _total),
            _map(zero_safe_sqrt, n_in + 1, rows.shape[0])]


ROW_LOWERING = {"logsumexp": lower_logsumexp, "var": lower_var, "std": lower_std, "norm": lower_norm}
