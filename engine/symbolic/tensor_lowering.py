"""Staged forward lowerings for the tensor tier: row operations written as a chain of small templates.

lowering.py writes softmax, layer_norm and cross_entropy as ONE template per output element
over its whole row (the exact tier's form): K placeholders whose K partials each hold the row,
so SymPy differentiates O(K^2) terms and the tensor tier gathers K x K columns per row. Here the
same forward definitions go through stages — the row max (a stop-gradient shift, tensor_shift.py),
exp(x - max), a row sum, then one small template per element — so every template has either <= 3 placeholders or is a
plain (or squared) sum whose partials SymPy takes term by term. Same functions, same SymPy
derivation; only the bookkeeping is linear in the row length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .. import shapes as S
from .templates import Group, Stage, args, elementwise, grid, reduce_rows, rows_last
from .templates import exact_number as _num
from .tensor_shift import row_max

Shapes = Sequence[Any]
Lowering = Callable[[Shapes, dict, Sequence[np.ndarray | None]], list[Stage] | None]


def _row_of(rows: np.ndarray) -> np.ndarray:
    """For every flat element of the rows, the row it belongs to."""
    out = np.empty(rows.size, np.int64)
    out[rows.reshape(-1)] = np.repeat(np.arange(rows.shape[0]), rows.shape[1])
    return out


def _per_element(fn: Callable[..., sp.Expr], sources: tuple[int, ...], columns: list[np.ndarray]) -> Stage:
    """out[e] = fn(buffer_0[columns_0[e]], ...): one small template over every element."""
    size = len(columns[0])
    template = fn(*args(len(sources)))
    return Stage(size, (Group(template, sources, np.arange(size), np.stack(columns, axis=1)),))


def _total(xs: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*xs)


def _mean_of(terms: Sequence[sp.Expr], count: int) -> sp.Expr:
    """sum(terms) / count, kept as a product: SymPy would distribute the 1/count over every
    term (seconds for a 1,024-term mean), and the partials take the sum term by term."""
    return sp.Mul(sp.Rational(1, count), sp.Add(*terms), evaluate=False)


def shifted_exp_rows(rows: np.ndarray, n_in: int) -> list[Stage]:
    """Stages n_in.. n_in+2: m = the row's max (stop-gradient, tensor_shift.py), e = exp(x - m),
    s = sum(e) over the row. exp(x) alone is inf past x ~ 709 in float64."""
    flat, row = np.arange(rows.size), _row_of(rows)
    return [row_max(rows, 0), _per_element(lambda v, m: sp.exp(v - m), (0, n_in), [flat, row]),
            reduce_rows(rows, n_in + 1, _total)]


def _softmax_like(log: bool) -> Lowering:
    """softmax = e / sum(e), log_softmax = (x - m) - log(sum(e)), e = exp(x - m), m the row's
    max held constant (the same functions for any constant m), along ``dim``."""

    def lower(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
        x = tuple(shapes[0])
        if not x:
            return None
        n_in = len(shapes)
        rows = rows_last(x, (S.norm_dim("softmax", at["dim"], len(x)),))
        if not rows.shape[1]:
            return None
        flat, row = np.arange(int(np.prod(x))), _row_of(rows)
        stages = shifted_exp_rows(rows, n_in)
        if log:
            stages.append(_per_element(lambda v, m, s: v - m - sp.log(s), (0, n_in, n_in + 2), [flat, row, row]))
        else:
            stages.append(_per_element(lambda e, s: e / s, (n_in + 1, n_in + 2), [flat, row]))
        return stages

    return lower


def lower_layer_norm(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    """mean, centred d = x - mean, var = mean(d^2), d / sqrt(var + eps), then weight and bias."""
    x = tuple(shapes[0])
    k = len(at["normalized_shape"])
    rows = rows_last(x, tuple(range(len(x) - k, len(x))))
    n_in = len(shapes)
    flat, row = np.arange(int(np.prod(x))), _row_of(rows)
    eps = _num(at["eps"])
    stages = _normalized(rows, flat, row, n_in, eps)
    present = [i for i in (1, 2) if len(shapes) > i and shapes[i] is not None]
    if not present:
        return stages
    affine = _affine(1 in present, 2 in present)
    stages.append(elementwise(affine, [x] + [tuple(shapes[i]) for i in present], [n_in + 4] + present, x))
    return stages


def _affine(weight: bool, bias: bool) -> Callable[..., sp.Expr]:
    """normalized * weight + bias, with either left out: the stage's template."""
    def affine(*vals: sp.Expr) -> sp.Expr:
        out = vals[0] * vals[1] if weight else vals[0]
        return out + vals[-1] if bias else out
    return affine


def _normalized(rows: np.ndarray, flat: np.ndarray, row: np.ndarray, n_in: int, eps: sp.Expr) -> list[Stage]:
    """Stages n_in.. n_in+4: row mean, d = x - mean, d^2, var = mean(d^2) (biased), d / sqrt(var + eps).
    Both row reductions are plain means (linear templates), whatever the row length."""
    count = rows.shape[1]
    return [reduce_rows(rows, 0, lambda xs: _mean_of(xs, count)),
            _per_element(lambda v, m: v - m, (0, n_in), [flat, row]),
            elementwise(lambda d: d * d, [(len(flat),)], (n_in + 1,), (len(flat),)),
            reduce_rows(rows, n_in + 2, lambda xs: _mean_of(xs, count)),
            _per_element(lambda d, v: d / sp.sqrt(v + eps), (n_in + 1, n_in + 3), [flat, row])]


def lower_batch_norm(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    """Training mode: per channel over (N, *spatial), the batch statistics as layer_norm's rows
    (biased variance), then weight and bias per channel. Eval mode: lowering.py's form."""
    if not at["training"]:
        return None
    x = tuple(shapes[0])
    n_in = len(shapes)
    rows = rows_last(x, (0,) + tuple(range(2, len(x))))  # (C, N * spatial)
    flat, chan = np.arange(int(np.prod(x))), _row_of(rows)
    stages = _normalized(rows, flat, chan, n_in, _num(at["eps"]))
    present = [i for i in (3, 4) if len(shapes) > i and shapes[i] is not None]
    if not present:
        return stages
    affine = _affine(3 in present, 4 in present)
    stages.append(_per_element(affine, (n_in + 4, *present), [flat] + [chan] * len(present)))
    return stages


def lower_cross_entropy(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    """Unweighted, unsmoothed class-index cross entropy of (N, C) logits: m + log(sum_c exp(x_c - m))
    - x_t per sample not ignored (m the row's max, held constant), then the sum or the mean over
    those samples (None: lowering.py's form)."""
    x, targets = tuple(shapes[0]), ints[1]
    weighted = len(shapes) > 2 and shapes[2] is not None
    if len(x) != 2 or targets is None or not x[1]:
        return None
    n_in, classes = len(shapes), x[1]
    rows = grid(x)
    if weighted or at["label_smoothing"]:
        from .tensor_cross_entropy import lower_weighted_smoothed

        return lower_weighted_smoothed(shapes, at, targets, shifted_exp_rows(rows, n_in))
    t = np.asarray(targets).reshape(-1)
    valid = np.flatnonzero(t != at["ignore_index"])
    ignored = np.flatnonzero(t == at["ignore_index"])
    stages = shifted_exp_rows(rows, n_in)
    s = args(3)
    groups = [Group(s[0] + sp.log(s[1]) - s[2], (n_in, n_in + 2, 0), valid,
                    np.stack([valid, valid, valid * classes + t[valid]], axis=1))]
    if len(ignored):
        groups.append(Group(sp.Integer(0), (), ignored, np.zeros((len(ignored), 0), np.int64)))
    stages.append(Stage(x[0], tuple(groups)))
    if at["reduction"] == "none":
        return stages
    if at["reduction"] == "sum":
        return stages + [reduce_rows(np.arange(x[0])[None, :], n_in + 3, _total)]
    picked = valid[None, :]
    mean = (lambda xs: _mean_of(xs, len(valid))) if len(valid) else (lambda xs: sp.nan)
    return stages + [reduce_rows(picked, n_in + 3, mean)]


TENSOR_LOWERING: dict[str, Lowering] = {
    "softmax": _softmax_like(log=False),
    "log_softmax": _softmax_like(log=True),
    "layer_norm": lower_layer_norm,
    "batch_norm": lower_batch_norm,
    "cross_entropy": lower_cross_entropy,
}


def tensor_lower(op: str, shapes: Shapes, attrs: dict, ints: Sequence[np.ndarray | None]) -> list[Stage] | None:
    """The staged lowering of ``op`` for the tensor tier, or None to use lowering.py's."""
    lowering = TENSOR_LOWERING.get(op)
    return None if lowering is None else lowering(shapes, attrs, ints)


from .tensor_lowering_rows import ROW_LOWERING  # noqa: E402 (registration: logsumexp, var, std, norm)

TENSOR_LOWERING.update(ROW_LOWERING)
