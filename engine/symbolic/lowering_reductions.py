"""SymPy forward definitions of the transformer's reductions (issue 11, part A), as stages whose
templates have linear partials: elementwise maps, plain row sums, trees of two-argument
Max/Min/products. Forward only: derivatives come from ``sympy.diff``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .. import shapes as S
from .templates import Group, Stage, args, reduce_rows, rows_last
from .templates import exact_number as _num


def _rows(op: str, shape: Sequence[int], dim: Any) -> np.ndarray:
    dims = S.norm_dims(op, dim, len(shape)) if not isinstance(dim, int) else (S.norm_dim(op, dim, len(shape)),)
    return rows_last(shape, dims if shape else ())


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


def _map(index: np.ndarray, source: int, fn: Callable[[sp.Expr], sp.Expr]) -> Stage:
    """out[j] = fn(buffer[index[j]])."""
    flat = index.reshape(-1, 1)
    return Stage(len(flat), (Group(fn(args(1)[0]), (source,), np.arange(len(flat)), flat),))


def _sum_rows(m: int, r: int, source: int, scale: Any = 1) -> Stage:
    """out[i] = scale * (sum of row i), rows laid out contiguously in ``source``."""
    return reduce_rows(np.arange(m * r).reshape(m, r), source, lambda xs: sp.Add(*xs) * scale)


def _pipeline(build: Callable[[np.ndarray, dict], list[Stage]]) -> Callable[[Sequence[Any], dict], list[Stage]]:
    """A reduction written as small stages (elementwise maps and plain sums), so that every
    template's partials stay linear in the row length (one r-argument log-sum-exp or variance
    template is quadratic to differentiate)."""

    def lower(shapes: Sequence[Any], at: dict) -> list[Stage]:
        return build(_rows("reduce", tuple(shapes[0]), at["dim"]), at)

    return lower


def _logsumexp(rows: np.ndarray, at: dict) -> list[Stage]:
    """log(sum(exp(x))): exp, sum, log (buffer 0 is the input, 1 + k stage k)."""
    m, r = rows.shape
    return [_map(rows, 0, sp.exp), _sum_rows(m, r, 1), _map(np.arange(m), 2, sp.log)]


def _variance(rows: np.ndarray, at: dict, root: bool) -> list[Stage]:
    """mean, then (x - mean)^2 per element, then their sum / (N - correction) (then sqrt)."""
    m, r = rows.shape
    s = args(2)
    deviations = Group((s[0] - s[1]) ** 2, (0, 1), np.arange(m * r),
                       np.stack([rows.reshape(-1), np.repeat(np.arange(m), r)], axis=1))
    stages = [reduce_rows(rows, 0, lambda xs: sp.Add(*xs) / r), Stage(m * r, (deviations,)),
              _sum_rows(m, r, 2, 1 / (r - _num(at["correction"])))]
    return stages + ([_map(np.arange(m), 3, sp.sqrt)] if root else [])


def _norm(rows: np.ndarray, at: dict) -> list[Stage]:
    """p=2: sqrt(sum x^2); p=1: sum |x|."""
    m, r = rows.shape
    if at["p"] == 1.0:
        return [_map(rows, 0, sp.Abs), _sum_rows(m, r, 1)]
    return [_map(rows, 0, lambda x: x**2), _sum_rows(m, r, 1), _map(np.arange(m), 2, sp.sqrt)]


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
    "logsumexp": _pipeline(_logsumexp),
    "amax": _tree(sp.Max),
    "amin": _tree(sp.Min),
    "max": _tree(sp.Max),
    "min": _tree(sp.Min),
    "var": _pipeline(lambda rows, at: _variance(rows, at, root=False)),
    "std": _pipeline(lambda rows, at: _variance(rows, at, root=True)),
    "norm": _pipeline(_norm),
    "prod": _tree(lambda a, b: a * b),
    "cumsum": _cumsum,
}
