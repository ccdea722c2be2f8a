"""Numeric forward and hand-written VJP of the convolutions (1-D and 2-D, transposed too).

Windows are strided views of the padded input (im2col without a copy) contracted by einsum,
grouped as ``(N, G, C/G, ...)``. The input gradient of a convolution is the transposed
convolution of the output gradient (and vice versa), written with ``ruletools.call`` so that it
is recorded under ``create_graph``; the weight gradients are einsums over the same windows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..conv_specs import pairs
from .ruletools import Arr, Rule, call

_LETTERS = "hwz"


def padded(x: Arr, pads: list[tuple[int, int]]) -> Arr:
    """x zero-padded on its spatial dims (low, high) per dim."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return np.pad(x, [(0, 0), (0, 0)] + pads)


def windows(xp: Arr, kernel: tuple, out: tuple, stride: tuple, dil: tuple) -> Arr:
    """A read-only view (N, C, *out, *kernel): element [.., i, .., p] = xp[.., s i + d p]."""
    nd = len(kernel)
    sp = xp.strides[2:]
    shape = xp.shape[:2] + tuple(out) + tuple(kernel)
    strides = xp.strides[:2] + tuple(sp[d] * stride[d] for d in range(nd)) + tuple(sp[d] * dil[d] for d in range(nd))
    return as_strided(xp, shape, strides, writeable=False)


def _specs(nd: int) -> tuple[str, str, str]:
    """einsum specs over grouped windows (n g c O K), weights (g o c K), outputs (n g o O)."""
    o, k = _LETTERS[:nd].upper(), "pqr"[:nd]
    return f"ngc{o}{k}", f"goc{k}", f"ngo{o}"


def conv(x: Arr, w: Arr, b: Arr | None, at: dict) -> Arr:
    """out[n, o, i] = b[o] + sum_{c, p} xpad[n, g C/G + c, s i + d p] w[o, c, p]."""
    nd, groups = len(at["stride"]), at["groups"]
    pads = pairs("conv", at["padding"], nd)
    xp = padded(x, pads)
    kernel = w.shape[2:]
    out = tuple((xp.shape[2 + d] - at["dilation"][d] * (kernel[d] - 1) - 1) // at["stride"][d] + 1
                for d in range(nd))
    win = windows(xp, kernel, out, at["stride"], at["dilation"])
    n, c = x.shape[:2]
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    wg = w.reshape((groups, w.shape[0] // groups) + w.shape[1:])
    sx, sw, so = _specs(nd)
    y = np.einsum(f"{sx},{sw}->{so}", win, wg, optimize=True).reshape((n, w.shape[0]) + out)
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * nd)
    return y.astype(np.result_type(x, w), copy=False)


def conv_transpose(x: Arr, w: Arr, b: Arr | None, at: dict) -> Arr:
    """Each x[n, c, i] adds x w[c, o, p] at position s i + d p - lo (then output_padding on the high side)."""
    nd, groups = len(at["stride"]), at["groups"]
    stride, dil, kernel = at["stride"], at["dilation"], w.shape[2:]
    pads = pairs("conv_transpose", at["padding"], nd)
    n, c = x.shape[:2]
    full = tuple((x.shape[2 + d] - 1) * stride[d] + dil[d] * (kernel[d] - 1) + 1 + at["output_padding"][d]
                 for d in range(nd))
    xg = x.reshape((n, groups, c // groups) + x.shape[2:])
    wg = w.reshape((groups, c // groups) + w.shape[1:])
    sx, sw, so = _specs(nd)
    spatial, taps = sx[3:3 + nd], sx[3 + nd:]
    cols = np.einsum(f"ngc{spatial},gco{taps}->ngo{taps}{spatial}", xg, wg, optimize=True)
    cols = cols.reshape((n, w.shape[1] * groups) + tuple(kernel) + x.shape[2:])
    dtype = np.result_type(x, w)
    y = np.zeros((n, cols.shape[1]) + full, dtype=dtype)
    for tap in np.ndindex(*kernel):  # one strided add per kernel tap, not per element
        index = tuple(slice(dil[d] * tap[d], dil[d] * tap[d] + stride[d] * (x.shape[2 + d] - 1) + 1, stride[d])
                      for d in range(nd))
        y[(slice(None), slice(None)) + index] += cols[(slice(None), slice(None)) + tap]
    crop = tuple(slice(lo, full[d] - hi) for d, (lo, hi) in enumerate(pads))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * nd)
    return np.ascontiguousarray(y, dtype=dtype)


def _names(nd: int) -> tuple[str, str]:
    return ("conv1d", "conv_transpose1d") if nd == 1 else ("conv2d", "conv_transpose2d")


def _common(at: dict) -> dict:
    return {k: at[k] for k in ("stride", "padding", "dilation", "groups")}


def _input_grad_of_conv(g: Arr, w: Arr, x_shape: tuple, at: dict) -> Any:
    """dL/dx of a convolution: the transposed convolution of g, output_padding filling up the input size."""
    nd = len(at["stride"])
    pads = pairs("conv", at["padding"], nd)
    extra = tuple(x_shape[2 + d] + lo + hi - ((g.shape[2 + d] - 1) * at["stride"][d]
                                               + at["dilation"][d] * (w.shape[2 + d] - 1) + 1)
                  for d, (lo, hi) in enumerate(pads))
    return call(_names(nd)[1], g, w, None, output_padding=extra, **_common(at))


def _weight_grad_of_conv(g: Arr, x: Arr, w_shape: tuple, at: dict) -> Arr:
    """dL/dw[o, c, p] = sum_{n, i} g[n, o, i] xpad[n, c', s i + d p]."""
    nd, groups = len(at["stride"]), at["groups"]
    xp = padded(x, pairs("conv", at["padding"], nd))
    win = windows(xp, w_shape[2:], g.shape[2:], at["stride"], at["dilation"])
    n, c = x.shape[:2]
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    gg = g.reshape((n, groups, g.shape[1] // groups) + g.shape[2:])
    sx, sw, so = _specs(nd)
    gw = np.einsum(f"{sx},{so}->{sw}", win, gg, optimize=True)
    return gw.reshape(w_shape).astype(np.result_type(g, x), copy=False)


def _conv_forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    return conv(xs[0], xs[1], xs[2] if len(xs) > 2 else None, at), (xs[0], xs[1])


def _conv_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    x, w = saved
    needs, at = node.needs, node.attrs
    gx = _input_grad_of_conv(g, w, x.shape, at) if needs[0] else None
    gw = _weight_grad_of_conv(g, x, w.shape, at) if needs[1] else None
    gb = g.sum(axis=(0,) + tuple(range(2, g.ndim))) if len(needs) > 2 and needs[2] else None
    return gx, gw, gb


def _transpose_forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    return conv_transpose(xs[0], xs[1], xs[2] if len(xs) > 2 else None, at), (xs[0], xs[1])


def _transpose_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """dL/dx = conv(g, w) with the same attributes; dL/dw[c, o, p] = sum x[n, c, i] gpad[n, o, s i + d p]."""
    x, w = saved
    needs, at = node.needs, node.attrs
    nd = len(at["stride"])
    gx = call(_names(nd)[0], g, w, None, **_common(at)) if needs[0] else None
    gw = None
    if needs[1]:
        gw = _weight_grad_of_transpose(g, x, w.shape, at, pairs("conv_transpose", at["padding"], nd))
    gb = g.sum(axis=(0,) + tuple(range(2, g.ndim))) if len(needs) > 2 and needs[2] else None
    return gx, gw, gb


def _weight_grad_of_transpose(g: Arr, x: Arr, w_shape: tuple, at: dict, pads: list) -> Arr:
    nd, groups = len(at["stride"]), at["groups"]
    gp = padded(g, pads)
    win = windows(gp, w_shape[2:], x.shape[2:], at["stride"], at["dilation"])
    n = g.shape[0]
    win = win.reshape((n, groups, g.shape[1] // groups) + win.shape[2:])
    xg = x.reshape((n, groups, x.shape[1] // groups) + x.shape[2:])
    sx, sw, so = _specs(nd)  # windows of g play the input, x plays the output
    gw = np.einsum(f"{sx},{so}->{sw}", win, xg, optimize=True)
    return gw.reshape(w_shape).astype(np.result_type(g, x), copy=False)


CONV = Rule(_conv_forward, _conv_vjp)
CONV_TRANSPOSE = Rule(_transpose_forward, _transpose_vjp)
CONV_RULES: dict[str, Rule] = {
    "conv1d": CONV, "conv2d": CONV, "conv_transpose1d": CONV_TRANSPOSE, "conv_transpose2d": CONV_TRANSPOSE,
}
