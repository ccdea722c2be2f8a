"""Numeric forward and hand-written VJP of the convolutions (1-D and 2-D, transposed too).

Windows are strided views of the padded input, copied once into per-group im2col matrices
and multiplied by BLAS (one batched matmul over the groups). The input gradient of a convolution is the transposed
convolution of the output gradient (and vice versa), written with ``ruletools.call`` so that it
is recorded under ``create_graph``; the weight gradients are convolutions too (batch and channels
trading places), so every gradient is a catalogue op and can be differentiated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..conv_specs import pairs
from .ruletools import Arr, Rule, call, traced

_CHUNK_BYTES = 1 << 20  # the window copy per chunk of samples: cache-sized, then multiplied


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


def im2col(win: Arr, groups: int) -> Arr:
    """Windows (N, C, *out, *K) as per-group matrices (G, N prod(out), C/G prod(K)) (one copy)."""
    n, c = win.shape[:2]
    nd = (win.ndim - 2) // 2
    out, k = win.shape[2:2 + nd], win.shape[2 + nd:]
    grouped = win.reshape((n, groups, c // groups) + out + k)
    order = (1, 0) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    return np.ascontiguousarray(grouped.transpose(order)).reshape(groups, n * int(np.prod(out)), -1)


def from_rows(rows: Arr, n: int, out: tuple) -> Arr:
    """(G, N prod(out), O/G) per-group results back to (N, O, *out)."""
    groups, _, og = rows.shape
    y = rows.reshape((groups, n) + tuple(out) + (og,))
    nd = len(out)
    return y.transpose((1, 0, 2 + nd) + tuple(range(2, 2 + nd))).reshape((n, groups * og) + tuple(out))


def conv(x: Arr, w: Arr, b: Arr | None, at: dict) -> Arr:
    """out[n, o, i] = b[o] + sum_{c, p} xpad[n, g C/G + c, s i + d p] w[o, c, p]."""
    return conv_and_cols(x, w, b, at)[0]


def conv_and_cols(x: Arr, w: Arr, b: Arr | None, at: dict, keep: bool = True) -> tuple[Arr, Arr]:
    """The convolution and its window matrix (N, G, C/G prod(K), prod(out)).

    The windows are copied once as (N, G, C/G prod(K), prod(out)) (the output positions
    innermost, so the copy runs along rows) and multiplied by each group's weight matrix: the
    product comes out as (N, O, prod(out)), already the output's layout. ``keep=False``: the
    output alone (the same products), each chunk's windows copied into one reused buffer and
    the window matrix returned is that buffer's last chunk.
    """
    nd, groups = len(at["stride"]), at["groups"]
    xp = padded(x, pairs("conv", at["padding"], nd))
    kernel = w.shape[2:]
    out = tuple((xp.shape[2 + d] - at["dilation"][d] * (kernel[d] - 1) - 1) // at["stride"][d] + 1
                for d in range(nd))
    win = windows(xp, kernel, out, at["stride"], at["dilation"])
    n = x.shape[0]
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    source = win.transpose(order)
    step = max(1, _CHUNK_BYTES // max(source[:1].size * x.itemsize, 1))
    full = np.empty(source.shape if keep else (min(step, n),) + source.shape[1:], x.dtype)
    cols = full.reshape(len(full), groups, -1, int(np.prod(out)))
    wmat = w.reshape(groups, w.shape[0] // groups, -1)
    y = np.empty((n, groups, wmat.shape[1], cols.shape[-1]), np.result_type(wmat, cols))
    for start in range(0, n, step):  # copy and multiply a few samples at a time, while in cache
        rows = slice(start, start + step) if keep else slice(0, min(step, n - start))
        np.copyto(full[rows], source[start:start + step])
        np.matmul(wmat, cols[rows], out=y[start:start + step])
    y = y.reshape((n, w.shape[0]) + out)
    if b is not None and b.dtype == y.dtype:
        y += b.reshape((-1,) + (1,) * nd)  # y is the product's own new array
    elif b is not None:
        y = y + b.reshape((-1,) + (1,) * nd)
    return y.astype(np.result_type(x, w), copy=False), cols


def weight_grad_from_cols(g: Arr, cols: Arr, w_shape: tuple) -> Arr:
    """dL/dw = sum_n g[n] cols[n]^T per group: the forward's window matrix reused (no second
    im2col copy); one batched matmul over samples and groups, then the sum over samples."""
    n, groups = cols.shape[:2]
    g4 = g.reshape(n, groups, w_shape[0] // groups, -1)
    if cols.shape[2] < 64:
        return np.matmul(g4, np.swapaxes(cols, -1, -2)).sum(axis=0).reshape(w_shape)
    # many window rows: the transposed product (BLAS's faster shape here), transposed back
    return np.swapaxes(np.matmul(cols, np.swapaxes(g4, -1, -2)).sum(axis=0), -1, -2).reshape(w_shape)


def conv_transpose(x: Arr, w: Arr, b: Arr | None, at: dict) -> Arr:
    """conv_transpose_planes on cache-sized chunks of samples (each sample is computed alone, so
    the result is the same bit for bit; the per-tap planes of a whole batch can pass 20 MB)."""
    per = at["groups"] * int(np.prod(w.shape[1:])) * int(np.prod(x.shape[2:])) * max(x.itemsize, w.itemsize)
    step = max(1, _CHUNK_BYTES // max(per, 1))
    if x.shape[0] <= step:
        return conv_transpose_planes(x, w, b, at)
    first = conv_transpose_planes(x[:step], w, b, at)
    y = np.empty((x.shape[0],) + first.shape[1:], first.dtype)
    y[:step] = first
    for start in range(step, x.shape[0], step):
        y[start:start + step] = conv_transpose_planes(x[start:start + step], w, b, at)
    return y


def conv_transpose_planes(x: Arr, w: Arr, b: Arr | None, at: dict) -> Arr:
    """Each x[n, c, i] adds x w[c, o, p] at position s i + d p - lo (then output_padding on the high side).

    Per group, (O/G prod(K), C/G) weights times the (C/G, prod(in)) input give every tap's
    contribution as contiguous planes (N, O, *K, *in); one strided add per tap places them.
    """
    nd, groups = len(at["stride"]), at["groups"]
    stride, dil, kernel = at["stride"], at["dilation"], w.shape[2:]
    pads = pairs("conv_transpose", at["padding"], nd)
    n, c = x.shape[:2]
    full = tuple((x.shape[2 + d] - 1) * stride[d] + dil[d] * (kernel[d] - 1) + 1 + at["output_padding"][d]
                 for d in range(nd))
    wg = w.reshape(groups, c // groups, -1).transpose(0, 2, 1)  # (G, O/G K, C/G)
    dtype = np.result_type(x, w)
    if nd == 2 and stride == (1, 1) and np.isfinite(w).all():
        y = _rows_placed(x, wg, groups, kernel, dil, full, dtype)
    else:
        cols = np.matmul(wg, x.reshape(n, groups, c // groups, -1))  # (N, G, O/G K, prod(in))
        cols = cols.reshape((n, w.shape[1] * groups) + tuple(kernel) + x.shape[2:])
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


def _rows_placed(x: Arr, wg: Arr, groups: int, kernel: tuple, dil: tuple, full: tuple, dtype: Any) -> Arr:
    """The stride-1 2-D transposed convolution before cropping, with each tap added as one flat run.

    x is zero-padded on the right to the output's width, so a tap's plane (in rows of that width)
    lands on the flattened output at offset p d0 W + q d1 in one contiguous add; the padding
    columns contribute exact zeros (finite weights) where they wrap into the next row.
    """
    n, c, h, width = x.shape
    wide = np.pad(x, [(0, 0), (0, 0), (0, 0), (0, full[1] - width)]) if full[1] > width else x
    cols = np.matmul(wg, wide.reshape(n, groups, c // groups, -1))  # (N, G, O/G K, h W)
    cols = cols.reshape(n, -1, int(np.prod(kernel)), h * full[1])
    plane = full[0] * full[1]
    y = np.zeros((n, cols.shape[1], plane + dil[1] * (kernel[1] - 1)), dtype=dtype)
    for tap, (p, q) in enumerate(np.ndindex(*kernel)):
        start = p * dil[0] * full[1] + q * dil[1]
        y[:, :, start:start + h * full[1]] += cols[:, :, tap]
    return y[:, :, :plane].reshape((n, cols.shape[1]) + tuple(full))


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


def _correlate(a: Arr, b: Arr, pads: list, at: dict, kernel: tuple) -> Any:
    """r[g Cb + j, i, p] = sum_{n, t} apad[n, g Ca + i, s t + d p] b[n, g Cb + j, t], shape (G Cb, Ca, *kernel).

    A weight gradient, written as a convolution (recorded under create_graph): the batch becomes
    the channels, ``a``'s channels per group the batch, and stride and dilation trade places.
    """
    nd, groups = len(at["stride"]), at["groups"]
    n, ca = a.shape[0], a.shape[1] // groups
    a2 = np.transpose(a.reshape((n, groups, ca) + a.shape[2:]), (2, 1, 0) + tuple(range(3, 3 + nd)))
    a2 = a2.reshape((ca, groups * n) + a.shape[2:])
    b2 = np.swapaxes(b, 0, 1)  # (G Cb, N, *t)
    flat = tuple(p for pair in pads for p in pair)
    r = call(_names(nd)[0], a2, b2, None, stride=tuple(at["dilation"]), dilation=tuple(at["stride"]),
             padding=flat, groups=groups)  # (Ca, G Cb, *K'), K' >= kernel
    r = r[(slice(None), slice(None)) + tuple(slice(0, k) for k in kernel)]
    return np.swapaxes(r, 0, 1)


def _weight_grad_of_conv(g: Arr, x: Arr, w_shape: tuple, at: dict) -> Any:
    """dL/dw[o, c, p] = sum_{n, i} g[n, o, i] xpad[n, c', s i + d p]."""
    return _correlate(x, g, pairs("conv", at["padding"], len(at["stride"])), at, tuple(w_shape[2:]))


def _conv_forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """Saves the window matrix too: derived data the first-order weight gradient reads; under
    create_graph the VJP computes that gradient as a recorded convolution of the live input."""
    y, cols = conv_and_cols(xs[0], xs[1], xs[2] if len(xs) > 2 else None, at)
    return y, (xs[0], xs[1], cols)


def _conv_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    x, w = saved[0], saved[1]
    needs, at = node.needs, node.attrs
    gx = _input_grad_of_conv(g, w, x.shape, at) if needs[0] else None
    gw = None
    if needs[1] and len(saved) > 2 and not traced(g, x, w):
        gw = weight_grad_from_cols(g, saved[2], w.shape)
    elif needs[1]:
        gw = _weight_grad_of_conv(g, x, w.shape, at)
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
    if gx is not None and gx.shape[2:] != x.shape[2:]:  # output_padding >= stride (dilation > stride)
        gx = gx[(slice(None), slice(None)) + tuple(slice(0, s) for s in x.shape[2:])]
    gw = None
    if needs[1]:
        gw = _weight_grad_of_transpose(g, x, w.shape, at, pairs("conv_transpose", at["padding"], nd))
    gb = g.sum(axis=(0,) + tuple(range(2, g.ndim))) if len(needs) > 2 and needs[2] else None
    return gx, gw, gb


def _weight_grad_of_transpose(g: Arr, x: Arr, w_shape: tuple, at: dict, pads: list) -> Any:
    """dL/dw[c, o, p] = sum_{n, i} x[n, c, i] gpad[n, o', s i + d p]."""
    return _correlate(g, x, pads, at, tuple(w_shape[2:]))


CONV = Rule(_conv_forward, _conv_vjp)
CONV_TRANSPOSE = Rule(_transpose_forward, _transpose_vjp)
CONV_RULES: dict[str, Rule] = {
    "conv1d": CONV, "conv2d": CONV, "conv_transpose1d": CONV_TRANSPOSE, "conv_transpose2d": CONV_TRANSPOSE,
}


def conv_from_cols(cols: Arr, x_dtype: Any, w: Arr, b: Arr | None, out: tuple) -> Arr:
    """conv_and_cols(x, w, b, at)[0] from its window matrix ``cols`` for another weight and bias,
    bit for bit (the same per-sample products and bias add): finite differences move the weight
    of a convolution whose input stays, so the windows are copied once for every copy."""
    n, groups = cols.shape[:2]
    wmat = w.reshape(groups, w.shape[0] // groups, -1)
    y = np.matmul(wmat, cols, dtype=np.result_type(wmat, cols)).reshape((n, w.shape[0]) + tuple(out))
    nd = len(out)
    if b is not None and b.dtype == y.dtype:
        y += b.reshape((-1,) + (1,) * nd)
    elif b is not None:
        y = y + b.reshape((-1,) + (1,) * nd)
    return y.astype(np.result_type(x_dtype, w), copy=False)
