"""ATen ops -> the catalogue ops of issues 11 and 12 (shape, indexing, nn, losses, CNN family).

Tried before aten.py's tables (same rule shape: see aten.py). Integer and bool results
(comparisons, the indices of max(dim)) never reach a rule: they are data leaves (build.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .aten import REDUCTIONS, Emit, Rule, _binary, _ints, _where, arg


def _reduction(a: tuple, k: dict, i: int) -> str:
    return REDUCTIONS[arg(a, k, i, "reduction", 1)]


def _variadic(op: str) -> Rule:
    return lambda e, a, k: e.op(op, list(a[0]), dim=int(arg(a, k, 1, "dim", 0)))


def _masked_fill(e: Emit, a: tuple, k: dict) -> str:
    value = a[2]
    if isinstance(value, str):  # a tensor fill value: where(mask, value, x)
        return _where(e, (a[1], value, a[0]), {})
    return e.op("masked_fill", [a[0], a[1]], value=float(value))


def _embedding(e: Emit, a: tuple, k: dict) -> str:
    """aten.embedding(weight, indices, padding_idx=-1): ATen's -1 means none (F.embedding has made
    a negative padding_idx positive already)."""
    padding = int(arg(a, k, 2, "padding_idx", -1))
    return e.op("embedding", [a[1], a[0]], padding_idx=None if padding < 0 else padding)


def _index(e: Emit, a: tuple, k: dict) -> str | None:
    """x[idx] with one integer index tensor on dim 0 (other index forms decline: decomposed or refused)."""
    indices = list(a[1])
    if len(indices) != 1 or not isinstance(indices[0], str) or getattr(e, "dtypes", {}).get(indices[0]) is np.bool_:
        return None  # x[i, j], x[mask]: decomposed or refused by name
    return e.op("index", [a[0], indices[0]])


def _same_padding(e: Emit, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """padding='same' as (low, high) per dim: torch puts the odd extra element at the end."""
    pads: list[int] = []
    for size, d in zip(kernel, dilation):
        total = d * (size - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def _conv(op: str, n: int) -> Rule:
    """conv1d/conv2d, padding given as ints or as 'same' / 'valid' (the .padding overloads)."""
    def rule(e: Emit, a: tuple, k: dict) -> str:
        dilation = _ints(arg(a, k, 5, "dilation", 1), n)
        padding = arg(a, k, 4, "padding", 0)
        if padding == "same":
            padding = _same_padding(e, e.shape(a[1])[2:], dilation)
        elif padding == "valid":
            padding = (0,) * n
        pads = _ints(padding, n)
        if len(pads) == 2 * n and all(pads[2 * i] == pads[2 * i + 1] for i in range(n)):
            pads = pads[::2]
        return e.op(op, [a[0], a[1], arg(a, k, 2, "bias")], stride=_ints(arg(a, k, 3, "stride", 1), n),
                    padding=pads, dilation=dilation, groups=int(arg(a, k, 6, "groups", 1)))
    return rule


def _conv_transpose(op: str, n: int) -> Rule:
    def rule(e: Emit, a: tuple, k: dict) -> str:
        return e.op(op, [a[0], a[1], arg(a, k, 2, "bias")], stride=_ints(arg(a, k, 3, "stride", 1), n),
                    padding=_ints(arg(a, k, 4, "padding", 0), n),
                    output_padding=_ints(arg(a, k, 5, "output_padding", 0), n),
                    groups=int(arg(a, k, 6, "groups", 1)), dilation=_ints(arg(a, k, 7, "dilation", 1), n))
    return rule


def _convolution(e: Emit, a: tuple, k: dict) -> str | None:
    """aten.convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups)."""
    n = len(e.shape(a[0])) - 2
    if n not in (1, 2):
        return None
    if a[6]:
        return _conv_transpose(f"conv_transpose{n}d", n)(e, (*a[:5], a[7], a[8], a[5]), {})
    return _conv(f"conv{n}d", n)(e, (*a[:6], a[8]), {})


def _pad(e: Emit, a: tuple, k: dict) -> str | None:
    mode = arg(a, k, 2, "mode", "constant")
    if mode not in ("constant", "reflect", "replicate"):
        return None  # circular: PyTorch's decomposition (slices and cat)
    value = arg(a, k, 3, "value")
    return e.op("pad", [a[0]], pad=tuple(int(p) for p in a[1]), mode=mode,
                value=0.0 if value is None else float(value))


def _constant_pad(e: Emit, a: tuple, k: dict) -> str:
    return e.op("pad", [a[0]], pad=tuple(int(p) for p in a[1]), mode="constant", value=float(arg(a, k, 2, "value", 0)))


def _upsample(mode: str) -> Rule:
    """upsample_*2d.vec(x, output_size, [align_corners,] scale_factors): the traced output size, and
    the scale factors when given (PyTorch maps coordinates with them)."""
    def rule(e: Emit, a: tuple, k: dict) -> str:
        corners = bool(a[2]) if mode == "bilinear" else False
        scales = a[3] if mode == "bilinear" else arg(a, k, 2, "scale_factors")
        scale_h, scale_w = (0.0, 0.0) if not scales else (float(scales[0]), float(scales[-1]))
        return e.op("interpolate", [a[0]], size=tuple(e.out_shape()[-2:]), mode=mode, align_corners=corners,
                    scale_h=scale_h, scale_w=scale_w)
    return rule


def _upsample_1d(mode: str) -> Rule:
    """upsample_{nearest,linear}1d(x, output_size, [align_corners,] scale(s)): (N, C, L) resampled
    along L; the .vec forms carry a list of scale factors, the .default ones one scale or None."""
    def rule(e: Emit, a: tuple, k: dict) -> str:
        corners = bool(a[2]) if mode == "linear" else False
        scales = arg(a, k, 3 if mode == "linear" else 2, "scale_factors", None)
        if scales is None:
            scales = arg(a, k, 3 if mode == "linear" else 2, "scales", None)
        scale = float(scales[-1] if isinstance(scales, (list, tuple)) else scales or 0.0)
        return e.op("interpolate", [a[0]], size=tuple(e.out_shape()[-1:]), mode=mode, align_corners=corners,
                    scale_h=0.0, scale_w=scale)
    return rule


def _loss(op: str, extra: str | None = None, default: float = 1.0) -> Rule:
    """op(input, target, reduction[, extra]) losses."""
    def rule(e: Emit, a: tuple, k: dict) -> str:
        attrs: dict[str, Any] = {"reduction": _reduction(a, k, 2)}
        if extra is not None:
            attrs[extra] = float(arg(a, k, 3, extra, default))
        return e.op(op, [a[0], a[1]], **attrs)
    return rule


def _nll(e: Emit, a: tuple, k: dict) -> str:
    return e.op("nll_loss", [a[0], a[1], arg(a, k, 2, "weight")], reduction=_reduction(a, k, 3),
                ignore_index=int(arg(a, k, 4, "ignore_index", -100)))


def _dropout(e: Emit, a: tuple, k: dict) -> str:
    """Training-mode dropout: x * mask, the mask the call drew recorded as a leaf."""
    if a[1] == 0 or not a[2]:
        return a[0]
    return e.op("dropout", [a[0], e.mask()])


def _squeeze(e: Emit, a: tuple, k: dict) -> str:
    dims = arg(a, k, 1, "dim")
    if isinstance(dims, (list, tuple)):
        shape = e.shape(a[0])
        dims = [d % len(shape) for d in dims if -len(shape) <= d < len(shape) and shape[d] == 1]
        if len(dims) != 1:
            return e.op("reshape", [a[0]], shape=tuple(e.out_shape()))
        dims = dims[0]
    return e.op("squeeze", [a[0]], dim=dims)


def _layer_norm(e: Emit, a: tuple, k: dict) -> str:
    return e.op("layer_norm", [a[0], arg(a, k, 2, "weight"), arg(a, k, 3, "bias")],
                normalized_shape=tuple(int(s) for s in a[1]), eps=float(arg(a, k, 4, "eps", 1e-5)))


def _sdpa(e: Emit, a: tuple, k: dict) -> str | None:
    """softmax(q k^T * scale [masked]) v, PyTorch's math form; attention dropout or GQA decline."""
    q, key, v = a[0], a[1], a[2]
    mask, p, causal = arg(a, k, 3, "attn_mask"), arg(a, k, 4, "dropout_p", 0.0), arg(a, k, 5, "is_causal", False)
    if p or k.get("enable_gqa"):
        return None
    rank, length, source = len(e.shape(q)), e.shape(q)[-2], e.shape(key)[-2]
    scale = k.get("scale") or 1 / math.sqrt(e.shape(q)[-1])
    scores = e.op("matmul", [q, e.op("transpose", [key], dim0=rank - 2, dim1=rank - 1)])
    scores = e.op("mul", [scores, e.const(float(scale), q)])
    if causal:
        mask = e.leaf("causal_mask", np.tril(np.ones((length, source), np.bool_)), False)
    if mask is not None and np.dtype(getattr(e, "dtypes", {}).get(mask, np.float64)) == np.bool_:
        scores = e.op("where", [mask, scores, e.const(-math.inf, q)])
    elif mask is not None:
        scores = e.op("add", [scores, mask])
    return e.op("matmul", [e.op("softmax", [scores], dim=-1), v])


EXTRA: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.cat.default": (("cat",), _variadic("cat")),
    "aten.stack.default": (("stack",), _variadic("stack")),
    "aten.gather.default": (("gather",), lambda e, a, k: e.op("gather", [a[0], a[2]], dim=int(a[1]))),
    "aten.scatter_add.default": (("scatter_add",), lambda e, a, k: e.op("scatter_add", [a[0], a[2], a[3]],
                                                                        dim=int(a[1]))),
    "aten.index_select.default": (("index_select",), lambda e, a, k: e.op("index_select", [a[0], a[2]],
                                                                          dim=int(a[1]))),
    "aten.index.Tensor": (("index",), _index),
    "aten.embedding.default": (("embedding",), _embedding),
    "aten.masked_fill.Scalar": (("masked_fill", "where"), _masked_fill),
    "aten.masked_fill.Tensor": (("masked_fill", "where"), _masked_fill),
    "aten.tril.default": (("tril",), lambda e, a, k: e.op("tril", [a[0]], diagonal=int(arg(a, k, 1, "diagonal", 0)))),
    "aten.triu.default": (("triu",), lambda e, a, k: e.op("triu", [a[0]], diagonal=int(arg(a, k, 1, "diagonal", 0)))),
    "aten.expand.default": (("expand",), lambda e, a, k: e.op("expand", [a[0]], size=tuple(e.out_shape()))),
    "aten.repeat.default": (("repeat",), lambda e, a, k: e.op("repeat", [a[0]], repeats=tuple(int(r) for r in a[1]))),
    "aten.flip.default": (("flip",), lambda e, a, k: e.op("flip", [a[0]], dims=tuple(int(d) for d in a[1]))),
    "aten.unsqueeze.default": (("unsqueeze",), lambda e, a, k: e.op("unsqueeze", [a[0]], dim=int(a[1]))),
    "aten.squeeze.dim": (("squeeze", "reshape"), _squeeze),
    "aten.squeeze.dims": (("squeeze", "reshape"), _squeeze),
    "aten.squeeze.default": (("squeeze",), lambda e, a, k: e.op("squeeze", [a[0]], dim=None)),
    "aten.pixel_shuffle.default": (("pixel_shuffle",), lambda e, a, k: e.op("pixel_shuffle", [a[0]],
                                                                            upscale_factor=int(a[1]))),
    "aten.adaptive_max_pool2d.default": (("adaptive_max_pool2d",), lambda e, a, k: (
        e.op("adaptive_max_pool2d", [a[0]], output_size=_ints(a[1], 2)), None)),
    "aten.layer_norm.default": (("layer_norm",), _layer_norm),
    "aten.conv1d.default": (("conv1d",), _conv("conv1d", 1)),
    "aten.conv2d.default": (("conv2d",), _conv("conv2d", 2)),
    "aten.conv1d.padding": (("conv1d",), _conv("conv1d", 1)),
    "aten.conv2d.padding": (("conv2d",), _conv("conv2d", 2)),
    "aten.conv_transpose1d.default": (("conv_transpose1d",), _conv_transpose("conv_transpose1d", 1)),
    "aten.conv_transpose2d.input": (("conv_transpose2d",), _conv_transpose("conv_transpose2d", 2)),
    "aten.convolution.default": (("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"), _convolution),
    "aten.pad.default": (("pad",), _pad),
    "aten.constant_pad_nd.default": (("pad",), _constant_pad),
    "aten.upsample_nearest2d.vec": (("interpolate",), _upsample("nearest")),
    "aten.upsample_bilinear2d.vec": (("interpolate",), _upsample("bilinear")),
    **{f"aten.upsample_{mode}1d.{form}": (("interpolate",), _upsample_1d(mode))
       for mode in ("nearest", "linear") for form in ("vec", "default")},
    "aten.nll_loss_nd.default": (("nll_loss",), _nll),
    "aten.nll_loss.default": (("nll_loss",), _nll),
    "aten.l1_loss.default": (("l1_loss",), _loss("l1_loss")),
    "aten.smooth_l1_loss.default": (("smooth_l1_loss",), _loss("smooth_l1_loss", "beta")),
    "aten.huber_loss.default": (("huber_loss",), _loss("huber_loss", "delta")),
    "aten.kl_div.default": (("kl_div",), lambda e, a, k: e.op("kl_div", [a[0], a[1]], reduction=_reduction(a, k, 2),
                                                              log_target=bool(k.get("log_target", False)))),
    "aten.binary_cross_entropy.default": (("binary_cross_entropy",), lambda e, a, k: e.op(
        "binary_cross_entropy", [a[0], a[1], arg(a, k, 2, "weight")], reduction=_reduction(a, k, 3))),
    "aten.dropout.default": (("dropout",), _dropout),
    "aten.mul.Tensor": (("mul",), _binary("mul")),
    "aten.scaled_dot_product_attention.default": (("matmul", "transpose", "mul", "where", "add", "softmax"), _sdpa),
}
