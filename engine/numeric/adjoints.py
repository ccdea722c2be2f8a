"""Adjoints of window and copy ops written with catalogue ops (via ``ruletools.call``), so that a
VJP using them is recorded under ``create_graph`` and can be differentiated again.

- ``spread``: the adjoint of taking pooling windows, a transposed convolution whose kernel
  places each tap's values at its offset in every window.
- ``to_maxima``: max pooling's VJP, g summed into each window's chosen maximum. On arrays one
  ``np.bincount`` (the first-order path keeps its speed); under create_graph the same sum
  spelled with catalogue ops (``spread`` of one-hot tap masks, or for adaptive windows two
  one-hot matrices per plane), since numpy's scatter has no recording op.
- ``separable_adjoint``: the VJP of a separable resampling (interpolate, adaptive average pooling).
- ``unpad``: the adjoint of ``pad`` (constant: a crop, i.e. a negative constant pad; reflect and
  replicate: the crop plus the mirrored / repeated borders folded back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pool_specs import pool_geometry
from ..resample_specs import pad_pairs
from .ruletools import Arr, call, traced


def spread(t: Arr, kernel: Arr, shape: tuple, stride: list, dil: list, pad: list) -> Any:
    """out[m, 0, s i + d p - pad] += t[m, k, i] kernel[k, 0, p] summed over k, cropped to ``shape``.

    ``t`` is (M, K, *out), ``kernel`` (K, 1, *taps); the result (M, 1, *shape). Positions past
    the padded input (a ceil_mode overhang) are cropped on the high side.
    """
    lows, highs, extra = [], [], []
    for d in range(len(shape)):
        full = (t.shape[2 + d] - 1) * stride[d] + dil[d] * (kernel.shape[2 + d] - 1) + 1
        rest = full - pad[d] - shape[d]
        lows.append(pad[d])
        highs.append(max(rest, 0))
        extra.append(max(-rest, 0))
    padding = tuple(v for lo, hi in zip(lows, highs) for v in (lo, hi))
    return call("conv_transpose2d", t, kernel, None, stride=tuple(stride), padding=padding,
                output_padding=tuple(extra), dilation=tuple(dil))


def to_maxima(g: Arr, flat: np.ndarray, shape: tuple, op: str, at: dict) -> Any:
    """dL/dx of max pooling: g[..., i, j] added at the flat input index ``flat`` names."""
    flat = flat.reshape(g.shape)
    if not traced(g):
        size = int(np.prod(shape))
        return np.bincount(flat.reshape(-1), g.reshape(-1), minlength=size).reshape(shape).astype(g.dtype)
    rows, cols = (flat // shape[3]) % shape[2], flat % shape[3]
    if op == "adaptive_max_pool2d":  # per plane: R^T (g * C), R and C one-hot in rows / columns
        n_out = g.shape[2] * g.shape[3]
        r = (rows.reshape(g.shape[:2] + (n_out, 1)) == np.arange(shape[2])).astype(g.dtype)
        c = (cols.reshape(g.shape[:2] + (n_out, 1)) == np.arange(shape[3])).astype(g.dtype)
        return np.swapaxes(r, -1, -2) @ (g.reshape(g.shape[:2] + (n_out, 1)) * c)
    kernel, stride, pad, dil, out = pool_geometry(op, shape, at)
    p = (rows - np.arange(out[0])[:, None] * stride[0] + pad[0]) // dil[0]
    q = (cols - np.arange(out[1])[None, :] * stride[1] + pad[1]) // dil[1]
    taps = kernel[0] * kernel[1]
    mask = ((p * kernel[1] + q)[:, :, None] == np.arange(taps)[:, None, None]).astype(g.dtype)
    planes = (g.reshape(g.shape[:2] + (1,) + g.shape[2:]) * mask).reshape((-1, taps) + g.shape[2:])
    eye = np.eye(taps, dtype=g.dtype).reshape((taps, 1) + tuple(kernel))
    return spread(planes, eye, tuple(shape[2:]), stride, dil, pad).reshape(shape)


def separable_adjoint(g: Arr, a: Arr, b: Arr) -> Any:
    """A^T g B per plane (A, B constant (out, in) matrices): the VJP of y = A x B^T. Written as
    matmuls with the constant on the right, ((g B)^T A)^T, a form the tensor tier lowers."""
    return np.swapaxes(np.swapaxes(g @ b, -1, -2) @ a, -1, -2)


def unpad(g: Arr, shape: tuple, at: dict) -> Any:
    """dL/dx of pad(x) from dL/dy = g."""
    pairs = pad_pairs("pad", shape, at["pad"])
    if at["mode"] == "constant":
        return call("pad", g, pad=tuple(-p for p in at["pad"]), mode="constant", value=0.0)
    for d, (lo, hi) in enumerate(pairs):
        if lo or hi:
            g = _fold(g, d, lo, hi, shape[d], at["mode"] == "reflect")
    return g


def _take(g: Arr, d: int, start: int, stop: int) -> Any:
    return g[(slice(None),) * d + (slice(start, stop),)]


def _place(part: Arr, d: int, lo: int, hi: int) -> Any:
    """``part`` zero-padded by (lo, hi) along dim d."""
    spec = [0, 0] * (part.ndim - 1 - d) + [lo, hi]
    return call("pad", part, pad=tuple(spec), mode="constant", value=0.0)


def _fold(g: Arr, d: int, lo: int, hi: int, n: int, reflect: bool) -> Any:
    """Dim d of g (lo + n + hi long) folded back to n: the centre plus each border's copies.

    reflect: padded position j < lo copies input lo - j, position lo + n + t copies n - 2 - t;
    replicate: the borders copy inputs 0 and n - 1. The border sums are added to their slabs
    of the centre and the slabs concatenated (one pass), or placed by zero padding when they
    overlap (a border as long as the input).
    """
    centre = _take(g, d, lo, lo + n)
    low, high = _take(g, d, 0, lo), _take(g, d, lo + n, lo + n + hi)
    if reflect:
        parts = [(1, lo + 1, call("flip", low, dims=(d,))), (n - 1 - hi, n - 1, call("flip", high, dims=(d,)))]
    else:
        parts = [(0, 1, low.sum(axis=d, keepdims=True)), (n - 1, n, high.sum(axis=d, keepdims=True))]
    parts = [p for p, size in zip(parts, (lo, hi)) if size]
    if len(parts) == 2 and parts[0][1] > parts[1][0]:
        for start, stop, part in parts:
            centre = centre + _place(part, d, start, n - stop)
        return centre
    slabs, at = [], 0
    for start, stop, part in parts:
        slabs += [_take(centre, d, at, start), _take(centre, d, start, stop) + part]
        at = stop
    slabs.append(_take(centre, d, at, n))
    return call("cat", *[s for s in slabs if s.shape[d]], dim=d)
