"""First-order kernels on plain arrays with fewer temporaries: the same numpy operations in the
same order as the rule formulas they stand for (equal bit for bit), written into buffers the
kernel itself allocated. Fresh multi-megabyte temporaries cost page faults on every step; these
kernels reuse theirs. Never called on tensors (create_graph keeps the rule formulas)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Arr = np.ndarray


def row_max(x: Arr, dim: int) -> Arr:
    """x.max(axis=dim, keepdims=True), the same values; seeded with -inf numpy reduces short float
    rows ~3x faster (the GPT block's attention rows: 64 elements)."""
    if x.ndim and x.shape[dim] and x.dtype.kind == "f":
        return x.max(axis=dim, keepdims=True, initial=-np.inf)
    return x.max(axis=dim, keepdims=True)


def sum_leading(a: Arr, lead: int) -> Arr:
    """a summed over its first ``lead`` axes (a bias or norm weight's gradient): one GEMV with a
    ones vector for a C-contiguous float32/float64 array (~3x faster than numpy's axis-0 sum,
    which adds row after row; BLAS's blocked sum is also the more accurate), else numpy's sum."""
    rows = math.prod(a.shape[:lead])
    if rows >= _GEMV_ROWS and lead < a.ndim and a.flags.c_contiguous and a.dtype in _BLAS_FLOATS:
        return np.matmul(np.ones(rows, a.dtype), a.reshape(rows, -1)).reshape(a.shape[lead:])
    return a.sum(axis=tuple(range(lead)))


_GEMV_ROWS = 512  # fewer rows: numpy's sum costs less than setting up the GEMV


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def log_softmax(x: Arr, dim: int) -> Arr:
    """x - max - log(sum(exp(x - max))) along dim (ruletools.log_softmax's formula)."""
    if x.size == 0:  # nothing to normalize (torch returns the empty tensor)
        return x.copy()
    shifted = x - row_max(x, dim)
    if shifted.ndim == 0:
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    total = np.exp(shifted).sum(axis=dim, keepdims=True)
    shifted -= np.log(total)
    return shifted


def softmax(x: Arr, dim: int) -> Arr:
    """exp(log_softmax(x)), exponentiated in place."""
    out = log_softmax(x, dim)
    return np.exp(out, out=out) if out.ndim else np.exp(out)


def softmax_vjp(g: Arr, y: Arr, dim: int) -> Arr:
    """y * (g - sum(g * y)) along dim."""
    if y.ndim == 0 or g.shape != y.shape:
        return y * (g - (g * y).sum(axis=dim, keepdims=True))
    t = g * y
    np.subtract(g, t.sum(axis=dim, keepdims=True), out=t)
    t *= y
    return t


def log_softmax_vjp(g: Arr, y: Arr, dim: int) -> Arr:
    """g - exp(y) * sum(g) along dim."""
    if y.ndim == 0 or g.shape != y.shape or g.dtype != y.dtype:
        return g - np.exp(y) * g.sum(axis=dim, keepdims=True)
    e = np.exp(y)
    e *= g.sum(axis=dim, keepdims=True)
    return np.subtract(g, e, out=e)


def masked_fill(x: Arr, mask: Arr, value: Any) -> Arr:
    """np.where(mask, value, x) as a copy of x with value written where mask holds."""
    if mask.dtype != np.bool_ or np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        return np.where(mask, value, x)
    out = np.array(x)  # a copy, and an array when x is a 0-d numpy scalar
    np.copyto(out, value, where=mask)
    return out


def normalized(x: Arr, axes: tuple[int, ...], eps: Any) -> tuple[Arr, Arr]:
    """(x - mean) * rstd and rstd = 1 / sqrt(biased var + eps) over axes (rules_nn._normalized)."""
    centered = x - x.mean(axis=axes, keepdims=True)
    if centered.ndim == 0:
        rstd = 1 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
        return centered * rstd, rstd
    square = centered * centered
    rstd = 1 / np.sqrt(square.mean(axis=axes, keepdims=True) + eps)
    centered *= rstd
    return centered, rstd


def layer_norm_dx(g: Arr, w: Arr | None, xhat: Arr, rstd: Arr, axes: tuple[int, ...]) -> Arr:
    """rstd * (gh - mean(gh) - x_hat * mean(gh * x_hat)), gh = g * w."""
    gh = g * w if w is not None else g.copy()
    if gh.shape != xhat.shape or not gh.dtype == xhat.dtype == rstd.dtype:
        return rstd * (gh - gh.mean(axis=axes, keepdims=True) - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
    t = gh * xhat
    second = t.mean(axis=axes, keepdims=True)
    np.multiply(xhat, second, out=t)
    gh -= gh.mean(axis=axes, keepdims=True)
    gh -= t
    gh *= rstd
    return gh
