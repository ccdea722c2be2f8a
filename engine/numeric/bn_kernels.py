"""batch_norm's array kernels (first order): the formulas of rules_pool with fewer temporaries,
bit for bit, and the training statistics handed to the running-stat update so that it does not
compute the batch mean and variance a second time (torch's kernel updates them from its own)."""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

Arr = np.ndarray


class _Last(threading.local):
    stats: tuple | None = None


_LAST = _Last()
_SAME_VAR = (np.dtype(np.float32), np.dtype(np.float64))


def batch_stats(x: Arr, axes: tuple[int, ...], view: tuple[int, ...]) -> tuple[Arr, Arr]:
    """(x - mean, biased var) over axes; remembered for :func:`take_stats` of the same x.
    float32 as torch's CPU kernel: both sums accumulated in float64, the mean and the sum of
    squares rounded to float32, the variance left in float64 (invstd is rounded once)."""
    if x.dtype == np.float32:
        mean = x.mean(axis=axes, dtype=np.float64).astype(np.float32)
        centered = x - mean.reshape(view)
        count = x.size // x.shape[1] if x.ndim > 1 else x.size
        var = (centered * centered).sum(axis=axes, dtype=np.float64).astype(np.float32) / np.float64(count)
        _LAST.stats = (weakref.ref(x), mean, var)
        return centered, var
    mean = x.mean(axis=axes)
    centered = x - mean.reshape(view)
    square = centered * centered
    var = square.mean(axis=axes)
    _LAST.stats = (weakref.ref(x), mean, var)
    return centered, var


def take_stats(x: Arr) -> tuple[Arr, Arr] | None:
    """The (mean, biased var) the last training batch_norm computed, if it was of this very x
    (float32/float64: numpy's var of float16 accumulates differently)."""
    found, _LAST.stats = _LAST.stats, None
    if found is None or found[0]() is not x or x.dtype not in _SAME_VAR:
        return None
    return found[1], found[2]


def scale_in_place(centered: Arr, invstd: Arr, view: tuple[int, ...]) -> Arr:
    """centered * invstd (per channel), written into centered when the dtypes allow."""
    if np.result_type(centered, invstd) != centered.dtype or not centered.ndim:
        return centered * invstd.reshape(view)
    centered *= invstd.reshape(view)
    return centered


def affine(xhat: Arr, w: Arr | None, b: Arr | None, view: tuple[int, ...]) -> Arr:
    """xhat w + b per channel (a new array; xhat itself is saved)."""
    y = xhat if w is None else xhat * w.reshape(view)
    if b is None:
        return y
    if y is xhat or np.result_type(y, b) != y.dtype:
        return y + b.reshape(view)
    y += b.reshape(view)
    return y


def training_grads(g: Arr, w: Arr | None, xhat: Arr, invstd: Arr, axes: tuple[int, ...],
                   view: Any) -> tuple[Arr, Arr, Arr] | None:
    """(dx, sum g xhat, sum g) in torch's arrangement: dx = (g - sum(g)/M - xhat sum(g xhat)/M)
    w invstd, the two sums being also the weight and bias gradients (seven passes, not eleven).
    None when the arrays do not share one dtype and shape (the caller's formula then)."""
    if g.shape != xhat.shape or not g.dtype == xhat.dtype == invstd.dtype or (w is not None and w.dtype != g.dtype):
        return None
    count = g.size // g.shape[1]
    t = g * xhat
    gw = t.sum(axis=axes)
    gb = g.sum(axis=axes)
    np.multiply(xhat, (gw / count).reshape(view), out=t)
    dx = g - (gb / count).reshape(view)
    dx -= t
    dx *= (invstd if w is None else invstd * w).reshape(view)
    return dx, gw, gb
