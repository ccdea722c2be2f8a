"""SymPy forward definitions of the transformer's reductions (issue 11, part A): each output
element is one template over its row of input elements. Forward only: derivatives come from
``sympy.diff``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .. import shapes as S
from .templates import Group, Stage, args, reduce_rows, rows_last
from .templates import exact_number as _num

Combine = Callable[[Sequence[sp.Expr]], sp.Expr]


def _rows(op: str, shape: Sequence[int], dim: Any) -> np.ndarray:
    dims = S.norm_dims(op, dim, len(shape)) if not isinstance(dim, int) else (S.norm_dim(op, dim, len(shape)),)
    return rows_last(shape, dims if shape else ())


def _reduce(combine: Callable[[dict], Combine]) -> Callable[[Sequence[Any], dict], list[Stage]]:
    def lower(shapes: Sequence[Any], at: dict) -> list[Stage]:
        return [reduce_rows(_rows("reduce", tuple(shapes[0]), at["dim"]), 0, combine(at))]

    return lower


def _tree(pair: Callable[[sp.Expr, sp.Expr], sp.Expr]) -> Callable[[Sequence[Any], dict], list[Stage]]:
    """A row's extreme as a tree of two-argument templates (log2(n) stages): sympy.diff of one
    n-argument Max is quadratic in n. A two-way tie splits the gradient 1/2 each (Heaviside(0))."""

    def lower(shapes: Sequence[Any], at: dict) -> list[Stage]:
        rows = _rows("reduce", tuple(shapes[0]), at["dim"])
        m, stages, source = rows.shape[0], [], 0
        if rows.shape[1] == 1:
            return [reduce_rows(rows, 0, lambda xs: xs[0])]
        s = args(2)
        while rows.shape[1] > 1:
            half, odd = rows.shape[1] // 2, rows.shape[1] % 2
            groups = [Group(pair(s[0], s[1]), (source, source), np.arange(m * half),
                            rows[:, : 2 * half].reshape(-1, 2))]
            nxt = np.arange(m * half).reshape(m, half)
            if odd:
                groups.append(Group(s[0], (source,), m * half + np.arange(m), rows[:, -1:]))
                nxt = np.concatenate([nxt, (m * half + np.arange(m))[:, None]], axis=1)
            stages.append(Stage(m * (half + odd), tuple(groups)))
            rows, source = nxt, len(stages)  # buffer 0 is the input, 1 + k is stage k
        return stages

    return lower


def _var(at: dict) -> Combine:
    def combine(xs: Sequence[sp.Expr]) -> sp.Expr:
        mean = sp.Add(*xs) / len(xs)
        return sp.Add(*[(x - mean) ** 2 for x in xs]) / (len(xs) - _num(at["correction"]))

    return combine


def _norm(at: dict) -> Combine:
    if at["p"] == 1.0:
        return lambda xs: sp.Add(*[sp.Abs(x) for x in xs])
    return lambda xs: sp.sqrt(sp.Add(*[x**2 for x in xs]))


def _cumsum(shapes: Sequence[Any], at: dict) -> list[Stage]:
    """out[..., k] = x[..., 0] + ... + x[..., k]: one group (template) per prefix length."""
    shape = tuple(shapes[0])
    if not shape:
        return [reduce_rows(np.zeros((1, 1), np.int64), 0, lambda xs: xs[0])]
    rows = _rows("cumsum", shape, at["dim"])  # (kept, n) in the order of the moved grid
    dim = S.norm_dim("cumsum", at["dim"], len(shape))
    out_pos = rows_last(shape, (dim,))  # the same layout: output k of row m sits at rows[m, k]
    groups = tuple(Group(sp.Add(*args(k + 1)), (0,) * (k + 1), out_pos[:, k], rows[:, : k + 1])
                   for k in range(rows.shape[1]))
    return [Stage(int(np.prod(shape, dtype=np.int64)), groups)]


REDUCTIONS: dict[str, Callable[[Sequence[Any], dict], list[Stage]]] = {
    "logsumexp": _reduce(lambda at: lambda xs: sp.log(sp.Add(*[sp.exp(x) for x in xs]))),
    "amax": _tree(sp.Max),
    "amin": _tree(sp.Min),
    "max": _tree(sp.Max),
    "min": _tree(sp.Min),
    "var": _reduce(_var),
    "std": _reduce(lambda at: lambda xs: sp.sqrt(_var(at)(xs))),
    "norm": _reduce(_norm),
    "prod": _reduce(lambda at: lambda xs: sp.Mul(*xs)),
    "cumsum": _cumsum,
}
