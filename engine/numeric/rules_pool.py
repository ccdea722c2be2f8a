"""Numeric forward and hand-written VJP of pooling and batch normalization.

Pooling windows are strided views of the padded input (rules_conv.windows); max pooling saves the
flat input index of each window's first maximum (non-differentiable data, as torch's indices)
and scatters the gradient there; average pooling spreads g / divisor back over each window (a
transposed convolution, so it is recorded under create_graph).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pool_specs import adaptive_rows, avg_divisor, pool_geometry
from . import bn_kernels
from .adjoints import separable_adjoint, spread, to_maxima
from .rules_conv import windows
from .ruletools import Arr, Rule, traced
from .unbatched import unbatched


def _pads(x_shape: tuple, kernel: list, stride: list, pad: list, dil: list, out: list) -> list[tuple[int, int]]:
    """(low, high) padding so that every window, including a ceil_mode overhang, fits."""
    return [(pad[d], max(0, (out[d] - 1) * stride[d] + dil[d] * (kernel[d] - 1) + 1 - x_shape[2 + d] - pad[d]))
            for d in range(2)]


def _max_pool(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    kernel, stride, pad, dil, out = pool_geometry("max_pool2d", x.shape, at)
    pads = _pads(x.shape, kernel, stride, pad, dil, out)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads, constant_values=-np.inf) if any(map(any, pads)) else x
    y, arg = _first_max(windows(xp, tuple(kernel), tuple(out), tuple(stride), tuple(dil)))
    if pad[0] or pad[1]:
        arg = _empty_to_first_valid(y, arg, kernel, stride, pad, dil, out)
    p, q = np.divmod(np.arange(kernel[0] * kernel[1]), kernel[1])
    offsets = p * dil[0] * x.shape[3] + q * dil[1]  # per tap, from the window's corner
    rows = np.arange(out[0])[:, None] * stride[0] - pad[0]
    cols = np.arange(out[1])[None, :] * stride[1] - pad[1]
    plane = np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1, 1))
    flat = (plane * x.shape[2] + rows) * x.shape[3] + cols + offsets[arg]
    return y, (flat, x.shape, x)


def _empty_to_first_valid(y: Arr, arg: Arr, kernel: list, stride: list, pad: list, dil: list, out: list) -> Arr:
    """A window whose maximum is -inf (every input tap -inf) points at its first tap inside the
    input, as torch's kernel starts there; the scan left it on a padding tap."""
    empty = y == -np.inf
    if not empty.any():
        return arg
    first = [np.maximum(0, -((np.arange(out[d]) * stride[d] - pad[d]) // dil[d])) for d in range(2)]
    tap = first[0][:, None] * kernel[1] + first[1][None, :]
    return np.where(empty, tap, arg)


def _first_max(win: Arr) -> tuple[Arr, Arr]:
    """Each window's first maximum in row-major tap order and that tap's number, as torch's CPU
    kernel scans (``val > maxval || isnan(val)``: the last NaN wins; -0.0 and 0.0 keep the
    first's bits). The taps are copied once to contiguous
    planes; then per tap a comparison and a select done in integer arithmetic on the bits (numpy's
    masked writes and np.where are several times slower)."""
    taps = np.ascontiguousarray(np.moveaxis(win, (-2, -1), (0, 1))).reshape((-1,) + win.shape[:-2])
    best = taps[0].copy()
    bits, tap_bits = best.view(f"u{best.itemsize}"), taps.view(f"u{best.itemsize}")
    arg = np.zeros(best.shape, np.int8 if len(taps) < 128 else np.intp)
    nan = best.dtype.kind == "f" and bool(np.isnan(taps.min()))
    for tap in range(1, len(taps)):
        value = taps[tap]
        better = value > best
        if nan:
            better |= np.isnan(value)
        pick = better.view(np.uint8)
        arg += pick.astype(arg.dtype, copy=False) * (arg.dtype.type(tap) - arg)
        bits += pick.astype(bits.dtype) * (tap_bits[tap] - bits)  # wraps modulo 2^k: exactly the tap's bits
    return best, arg.astype(np.intp)


def _max_pool_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """The gradient goes to the saved index of each window (summed where windows overlap)."""
    return (to_maxima(g, saved[0], saved[1], node.op, node.attrs),)


def _avg_pool(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    kernel, stride, pad, dil, out = pool_geometry("avg_pool2d", x.shape, at)
    xp = np.pad(x, [(0, 0), (0, 0)] + _pads(x.shape, kernel, stride, pad, dil, out))
    win = windows(xp, tuple(kernel), tuple(out), tuple(stride), (1, 1))
    y = win.sum(axis=(-2, -1)) / avg_divisor(x.shape, at, kernel, stride, pad, out)
    return y.astype(x.dtype, copy=False), x  # saved as torch saves self (a second backward raises)


def _avg_pool_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """Each input element gets g / divisor from every window that covers it: a transposed
    convolution of g / divisor with a kernel of ones (one plane per batch and channel)."""
    shape, at = node.shapes[0], node.attrs
    kernel, stride, pad, dil, out = pool_geometry("avg_pool2d", shape, at)
    gd = g / avg_divisor(shape, at, kernel, stride, pad, out).astype(g.dtype)
    planes = gd.reshape((shape[0] * shape[1], 1) + tuple(out))
    gx = spread(planes, np.ones((1, 1) + tuple(kernel), g.dtype), tuple(shape[2:]), stride, [1, 1], pad)
    return (gx.reshape(tuple(shape)),)


def adaptive_matrix(size_in: int, size_out: int) -> Arr:
    """(out, in) averaging rows over floor(i in / out) .. ceil((i + 1) in / out) - 1, torch's split."""
    i = np.arange(size_out)
    start, end = (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)
    h = np.arange(size_in)
    mask = (h >= start[:, None]) & (h < end[:, None])
    return mask / (end - start)[:, None]


def _even_windows(shape: tuple, size: Any) -> tuple[int, int] | None:
    """(kh, kw) when each output size divides its input size (windows of one size, no overlap)."""
    h, w = shape[2:]
    if size[0] and size[1] and h % size[0] == 0 and w % size[1] == 0:
        return h // size[0], w // size[1]
    return None


def _adaptive(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """Window means; equal windows (a global pool) as a reshape and mean, as torch sums and divides."""
    x = xs[0]
    even = _even_windows(x.shape, at["output_size"]) if x.ndim == 4 else None
    if even is not None:
        (n, c), (oh, ow) = x.shape[:2], at["output_size"]
        y = np.asarray(x.reshape(n, c, oh, even[0], ow, even[1]).mean(axis=(3, 5)), x.dtype)
        return y, None if (oh, ow) == (1, 1) else x  # torch's (1, 1) is a mean (MeanBackward1)
    a, b = (adaptive_matrix(x.shape[2 + d], at["output_size"][d]).astype(x.dtype) for d in range(2))
    return np.einsum("ih,nchw,jw->ncij", a, x, b, optimize=True), x  # saved as torch saves self


def _adaptive_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    shape = node.shapes[0]
    even = _even_windows(shape, node.attrs["output_size"]) if len(shape) == 4 and not traced(g) else None
    if even is not None:  # g / window size, copied over each window
        share = (g / (even[0] * even[1]))[:, :, :, None, :, None]
        return (np.broadcast_to(share, g.shape[:3] + (even[0], g.shape[3], even[1])).reshape(shape),)
    a, b = (adaptive_matrix(shape[2 + d], node.attrs["output_size"][d]).astype(g.dtype) for d in range(2))
    return (separable_adjoint(g, a, b),)


def _adaptive_max(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """Each window's first maximum (row-major), its flat input index saved as torch's indices."""
    x = xs[0]
    rows = adaptive_rows(x.shape, at["output_size"])
    values = np.where(rows >= 0, x.reshape(-1)[np.maximum(rows, 0)], -np.inf)
    arg = torch_argmax(values)
    flat = rows[np.arange(len(rows)), arg]
    return x.reshape(-1)[flat].reshape(x.shape[:2] + tuple(at["output_size"])), (flat, x.shape, x)


def torch_argmax(values: Arr) -> Arr:
    """Per row, the first maximum, or the last NaN where the row holds one (torch's pooling
    kernels scan with ``val > maxval || isnan(val)``)."""
    arg = values.argmax(axis=1)
    nan = np.isnan(values)
    if nan.any():
        last = values.shape[1] - 1 - nan[:, ::-1].argmax(axis=1)
        arg = np.where(nan.any(axis=1), last, arg)
    return arg


def _bn_axes(x: Arr) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)


def _bn_stats(x: Arr, rm: Arr, rv: Arr, at: dict) -> tuple[Arr, Arr]:
    """(xhat, invstd): the batch's biased statistics in training, else the running ones."""
    axes, view = _bn_axes(x)
    live = traced(x)  # create_graph: the formulas recorded; on arrays, bn_kernels (same bits)
    if not at["training"]:
        centered, var = x - rm.reshape(view), rv
    elif live:
        mean = x.mean(axis=axes)
        centered = x - mean.reshape(view)
        var = (centered * centered).mean(axis=axes)
    else:
        centered, var = bn_kernels.batch_stats(x, axes, view)
    invstd = (1.0 / np.sqrt(var + at["eps"])).astype(x.dtype)
    if live:
        return centered * invstd.reshape(view), invstd
    return bn_kernels.scale_in_place(centered, invstd, view), invstd


def _batch_norm(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """xhat = (x - mean) / sqrt(var + eps); out = xhat w + b. Saves its inputs, and xhat and invstd
    for the first-order VJP only: under create_graph they are recomputed from the live x."""
    x, rm, rv, w, b = xs
    _, view = _bn_axes(x)
    xhat, invstd = _bn_stats(x, rm, rv, at)
    y = bn_kernels.affine(xhat, w, b, view)
    return y.astype(np.result_type(*[v for v in xs if v is not None]), copy=False), (x, rm, rv, w, xhat, invstd)


def _batch_norm_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """training: dx = invstd (gxh - mean(gxh) - xhat mean(gxh xhat)), gxh = g w; eval: dx = g w invstd."""
    x, rm, rv, w, xhat, invstd = saved
    if traced(x):  # statistics as recorded functions of x (the saved ones are constants)
        xhat, invstd = _bn_stats(x, rm, rv, node.attrs)
    axes, view = _bn_axes(g)
    needs = node.needs
    fast = None
    if needs[0] and node.attrs["training"] and not traced(g, x, w):
        fast = bn_kernels.training_grads(g, w, xhat, invstd, axes, view)
    if fast is not None:
        return fast[0], None, None, (fast[1] if needs[3] else None), (fast[2] if needs[4] else None)
    gx = None
    if needs[0]:
        gxh = g if w is None else g * w.reshape(view)
        if node.attrs["training"]:
            gx = (gxh - gxh.mean(axis=axes).reshape(view)
                  - xhat * (gxh * xhat).mean(axis=axes).reshape(view)) * invstd.reshape(view)
        else:
            gx = gxh * invstd.reshape(view)
    gw = (g * xhat).sum(axis=axes) if needs[3] else None
    gb = g.sum(axis=axes) if needs[4] else None
    return gx, None, None, gw, gb


POOL_RULES: dict[str, Rule] = {  # pooling also takes torch's unbatched (C, H, W) input (unbatched.py)
    "max_pool2d": unbatched(Rule(_max_pool, _max_pool_vjp)),
    "avg_pool2d": unbatched(Rule(_avg_pool, _avg_pool_vjp)),
    "adaptive_avg_pool2d": unbatched(Rule(_adaptive, _adaptive_vjp)),
    "adaptive_max_pool2d": unbatched(Rule(_adaptive_max, _max_pool_vjp)),
    "batch_norm": Rule(_batch_norm, _batch_norm_vjp),
}
