"""SymPy forward lowering of the convolutions: each output element is its index-notation sum

    out[n, o, i, j] = b[o] + Sum(xz[n, g C/G + c, s i + d p, s j + d q] * w[o, c, p, q], (c, p, q))

over ``xz``, the input with zero padding as a stage (the padding condition: an element of ``xz``
is ``x[n, c, u - lo]`` when ``0 <= u - lo < H`` and the constant 0 otherwise). A transposed
convolution is its scatter written as a gather: ``xz`` is the input spread ``s`` apart (zeros in
between) and the kernel read back to front. Derivatives come only from ``sympy.diff``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..conv_specs import pairs
from .templates import Group, Stage, args, grid

Shapes = Sequence[Any]


def _spread_stage(shape: tuple, maps: list[np.ndarray], source: int) -> Stage:
    """xz[n, c, u, ...] = x[n, c, maps[0][u], ...] where every map is >= 0, else 0."""
    g = grid(shape)
    nd = len(maps)
    index: tuple = (slice(None), slice(None))
    valid = np.ones((1, 1) + tuple(len(m) for m in maps), bool)
    for d, m in enumerate(maps):
        view = (1,) * d + (len(m),) + (1,) * (nd - d - 1)
        index += (np.maximum(m, 0).reshape(view),)
        valid = valid & (m >= 0).reshape((1, 1) + view)
    picked = g[index]
    valid = np.broadcast_to(valid, picked.shape).reshape(-1)
    flat = picked.reshape(-1)
    positions = np.arange(len(flat))
    copy = Group(args(1)[0], (source,), positions[valid], flat[valid].reshape(-1, 1))
    zero = Group(sp.Integer(0), (), positions[~valid], np.zeros((int((~valid).sum()), 0), np.int64))
    return Stage(len(flat), (copy, zero) if (~valid).any() else (copy,))


def _window_gather(zg: np.ndarray, out: tuple, kernel: tuple, stride: tuple, dil: tuple) -> np.ndarray:
    """(N, C, *out, *kernel) flat indices: zg[n, c, s i + d p, ...]."""
    nd = len(kernel)
    index: tuple = (slice(None), slice(None))
    for d in range(nd):
        pos = stride[d] * np.arange(out[d])[:, None] + dil[d] * np.arange(kernel[d])[None, :]
        view = [1] * (2 * nd)
        view[d], view[nd + d] = out[d], kernel[d]
        index += (pos.reshape(view),)
    return zg[index]


def _conv_stage(zg: np.ndarray, zsrc: int, wg: np.ndarray, bias: int | None, n_out: tuple,
                stride: tuple, dil: tuple, groups: int, bias_grid: np.ndarray | None) -> Stage:
    """out[n, g, o, *i] = sum over (c, *p) of z-window * w[g, o, c, *p] (+ b), one dot-product template."""
    nd = len(stride)
    n, c = zg.shape[:2]
    kernel = wg.shape[3:]
    win = _window_gather(zg, n_out, kernel, stride, dil)  # (N, C, *out, *k)
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    order = (0, 1) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    win = np.transpose(win, order).reshape((n, groups, 1) + tuple(n_out) + (-1,))
    og = wg.shape[1]
    wcols = wg.reshape((1, groups, og) + (1,) * nd + (-1,))
    full = (n, groups, og) + tuple(n_out)
    k = int(np.shape(win)[-1])
    cols = [np.broadcast_to(win, full + (k,)), np.broadcast_to(wcols, full + (k,))]
    if bias is not None and bias_grid is not None:
        b = bias_grid.reshape((1, groups, og) + (1,) * nd + (1,))
        cols.append(np.broadcast_to(b, full + (1,)))
    gather = np.concatenate(cols, axis=-1).reshape(-1, 2 * k + (bias is not None))
    s = args(gather.shape[1])
    template = sp.Add(*[s[j] * s[k + j] for j in range(k)]) + (s[2 * k] if bias is not None else 0)
    sources = (zsrc,) * k + (1,) * k + ((bias,) if bias is not None else ())
    return Stage(len(gather), (Group(template, sources, np.arange(len(gather)), gather),))


def lower_conv(shapes: Shapes, at: dict) -> list[Stage]:
    x, w = tuple(shapes[0]), tuple(shapes[1])
    has_bias = len(shapes) > 2 and shapes[2] is not None
    nd, groups = len(at["stride"]), at["groups"]
    pads = pairs("conv", at["padding"], nd)
    stages: list[Stage] = []
    zsrc, zshape = 0, x
    if any(lo or hi for lo, hi in pads):
        maps = [np.where((u := np.arange(x[2 + d] + lo + hi) - lo) < x[2 + d], u, -1)
                for d, (lo, hi) in enumerate(pads)]
        stages.append(_spread_stage(x, maps, 0))
        zsrc, zshape = len(shapes), x[:2] + tuple(len(m) for m in maps)
    out = tuple((zshape[2 + d] - at["dilation"][d] * (w[2 + d] - 1) - 1) // at["stride"][d] + 1 for d in range(nd))
    wg = grid(w).reshape((groups, w[0] // groups) + w[1:])
    stages.append(_conv_stage(grid(zshape), zsrc, wg, 2 if has_bias else None, out, at["stride"],
                              at["dilation"], groups, grid(shapes[2]) if has_bias else None))
    return stages


def lower_conv_transpose(shapes: Shapes, at: dict) -> list[Stage]:
    """out[n, o, y] = b[o] + sum_{c, p} xz[n, c, y + d (k - 1 - p)] w[c, o, p], with
    xz[u] = x[(u + lo - d (k - 1)) / s] where that is a whole in-range index, else 0."""
    x, w = tuple(shapes[0]), tuple(shapes[1])
    has_bias = len(shapes) > 2 and shapes[2] is not None
    nd, groups = len(at["stride"]), at["groups"]
    stride, dil = at["stride"], at["dilation"]
    pads = pairs("conv_transpose", at["padding"], nd)
    kernel = w[2:]
    out = tuple((x[2 + d] - 1) * stride[d] - lo - hi + dil[d] * (kernel[d] - 1) + at["output_padding"][d] + 1
                for d, (lo, hi) in enumerate(pads))
    maps = []
    for d, (lo, _) in enumerate(pads):
        t = np.arange(out[d] + dil[d] * (kernel[d] - 1)) + lo - dil[d] * (kernel[d] - 1)
        whole = (t % stride[d] == 0) & (t >= 0) & (t // stride[d] < x[2 + d])
        maps.append(np.where(whole, t // stride[d], -1))
    spread = _spread_stage(x, maps, 0)
    zshape = x[:2] + tuple(len(m) for m in maps)
    flip = (slice(None),) * 3 + (slice(None, None, -1),) * nd
    wg = grid(w).reshape((groups, x[1] // groups) + w[1:])  # (g, c, o, *k)
    wg = np.swapaxes(wg, 1, 2)[flip]  # (g, o, c, *k) read back to front
    conv = _conv_stage(grid(zshape), len(shapes), wg, 2 if has_bias else None, out, (1,) * nd, dil, groups,
                       grid(shapes[2]) if has_bias else None)
    return [spread, conv]


CONV_LOWERING = {
    "conv1d": lower_conv, "conv2d": lower_conv,
    "conv_transpose1d": lower_conv_transpose, "conv_transpose2d": lower_conv_transpose,
}
