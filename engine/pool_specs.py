"""Catalogue entries for pooling and batch normalization: attributes, shape rules with torch's
checks, cases, kink conventions. Appended to the catalogue by engine/ops.py.

An empty ``stride`` means torch's default, the kernel size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import BatchSizeError, ShapeError
from .ops import Attr, Case, Input, OpSpec


def _three_or_four_d(op: str, x: Sequence[int]) -> None:
    if len(x) not in (3, 4):
        raise ShapeError(op, "non-empty 3D (channels, height, width) or 4D (batch mode) tensor expected for "
                             f"input, got input of shape {list(x)}")


def planes(x: Sequence[int]) -> tuple[int, ...]:
    """A pooling input's shape as (N, C, H, W): an unbatched (C, H, W) input is one sample, as in
    torch (pooling is per plane, so both have the same flat layout)."""
    return (1, *x) if len(x) == 3 else tuple(x)


def pool_geometry(op: str, x: Sequence[int], at: dict) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """kernel, stride, padding, dilation and the output size per spatial dim, as torch computes them."""
    x = planes(x)
    kernel = list(at["kernel_size"])
    stride = list(at["stride"]) or kernel
    pad, dil = list(at["padding"]), list(at.get("dilation", (1, 1)))
    if not (len(kernel) == len(stride) == len(pad) == len(dil) == 2):
        raise ShapeError(op, "kernel_size, stride, padding and dilation need 2 entries each")
    if min(kernel + stride + dil) < 1 or min(pad) < 0:
        raise ShapeError(op, f"kernel_size {kernel}, stride {stride}, dilation {dil} must be positive")
    out = []
    for d in range(2):
        span = dil[d] * (kernel[d] - 1) + 1
        if pad[d] * 2 > kernel[d]:
            raise ShapeError(op, f"pad should be at most half of effective kernel size, got padding {pad}, "
                                 f"kernel_size {kernel}")
        size = x[2 + d] + 2 * pad[d] - span + (stride[d] - 1 if at["ceil_mode"] else 0)
        n = size // stride[d] + 1
        if at["ceil_mode"] and (n - 1) * stride[d] >= x[2 + d] + pad[d]:
            n -= 1
        if n < 1:
            raise ShapeError(op, f"output size {n} is too small: input {list(x)}, kernel_size {kernel}, "
                                 f"padding {pad}, dilation {dil}")
        out.append(n)
    return kernel, stride, pad, dil, out


def avg_divisor(x_shape: Sequence[int], at: dict, kernel: list, stride: list, pad: list, out: list) -> np.ndarray:
    """torch's avg_pool2d divisor per output element."""
    x_shape = planes(x_shape)
    if at["divisor_override"]:
        return np.full(tuple(out), float(at["divisor_override"]))
    sizes = []
    for d in range(2):
        start = np.arange(out[d]) * stride[d] - pad[d]
        end = np.minimum(start + kernel[d], x_shape[2 + d] + pad[d])
        if not at["count_include_pad"]:
            start, end = np.maximum(start, 0), np.minimum(end, x_shape[2 + d])
        sizes.append(end - start)
    return (sizes[0][:, None] * sizes[1][None, :]).astype(float)


def pool_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    x = tuple(shapes[0])
    _three_or_four_d(op, x)
    if at.get("divisor_override") == 0:  # torch's check (0 was taken as no override)
        raise ShapeError(op, "divisor must be not zero")
    return x[:-2] + tuple(pool_geometry(op, x, at)[4])


def adaptive_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    x = tuple(shapes[0])
    _three_or_four_d(op, x)
    size = tuple(at["output_size"])
    if len(size) != 2 or min(size) < 1:
        raise ShapeError(op, f"output_size {list(size)} must be 2 positive ints")
    return x[:-2] + size


def adaptive_ranges(size_in: int, size_out: int) -> np.ndarray:
    """(out, longest) input positions of each adaptive range floor(i in / out) .. ceil((i + 1) in / out) - 1,
    -1 past its end (torch's split)."""
    i = np.arange(size_out)
    start, end = (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)
    longest = int((end - start).max())
    pos = start[:, None] + np.arange(longest)[None, :]
    return np.where(pos < end[:, None], pos, -1)


def adaptive_rows(x: Sequence[int], size: Sequence[int]) -> np.ndarray:
    """(N C out_h out_w, longest window) flat input indices of each adaptive window, -1 padded."""
    x = planes(x)
    rh, rw = (adaptive_ranges(x[2 + d], size[d]) for d in range(2))
    grid = np.arange(int(np.prod(x, dtype=np.int64))).reshape(tuple(x))
    g = np.pad(grid, [(0, 0), (0, 0), (0, 1), (0, 1)], constant_values=-1)  # index -1 reads the pad
    return g[:, :, rh[:, None, :, None], rw[None, :, None, :]].reshape(-1, rh.shape[1] * rw.shape[1])


def batch_norm_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    x = tuple(shapes[0])
    if len(x) < 2:
        raise ShapeError(op, f"expected an input with a channel dim, got input of shape {list(x)}")
    for name, s in zip(("running_mean", "running_var", "weight", "bias"), shapes[1:]):
        if s is not None and tuple(s) != (x[1],):
            raise ShapeError(op, f"{name} of shape {list(s)} must be ({x[1]},) for input of shape {list(x)}")
    if not at["training"] and (shapes[1] is None or shapes[2] is None):
        raise ShapeError(op, "eval mode needs running_mean and running_var")
    if at["training"] and x[0] * _prod(x[2:]) < 2:
        raise BatchSizeError(op, f"Expected more than 1 value per channel when training, got input of shape {list(x)}")
    return x


def _prod(xs: Sequence[int]) -> int:
    out = 1
    for v in xs:
        out *= v
    return out


_POOL = (Attr("kernel_size", "shape", (2, 2)), Attr("stride", "shape", ()), Attr("padding", "shape", (0, 0)))
_STATE = Input("running_mean", optional=True, differentiable=False), Input(
    "running_var", "positive", optional=True, differentiable=False)

POOL_SPECS: tuple[OpSpec, ...] = (
    OpSpec(
        "max_pool2d", (Input("input"),), pool_shape, "MaxPool2DWithIndicesBackward0",
        (Case(((1, 2, 4, 4),)), Case(((1, 1, 5, 5),), {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1)}),
         Case(((1, 1, 5, 6),), {"kernel_size": (2, 3), "stride": (2, 2), "ceil_mode": True}),
         Case(((1, 1, 6, 6),), {"kernel_size": (2, 2), "dilation": (2, 2), "stride": (1, 2)}),
         Case(((2, 5, 5),), {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1)})),  # unbatched
        _POOL + (Attr("dilation", "shape", (1, 1)), Attr("ceil_mode", "bool", False)),
        kink="a tie inside a window: the gradient goes to the first maximum (row-major), as torch's index",
        doc="out[n, c, i, j] = max over the window (padding is -inf)",
    ),
    OpSpec(
        "avg_pool2d", (Input("input"),), pool_shape, "AvgPool2DBackward0",
        (Case(((1, 2, 4, 4),)),
         Case(((1, 1, 5, 5),), {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1), "ceil_mode": True}),
         Case(((1, 1, 5, 5),), {"kernel_size": (3, 2), "padding": (1, 1), "count_include_pad": False}),
         Case(((1, 1, 4, 5),), {"kernel_size": (2, 2), "divisor_override": 3}),
         Case(((2, 5, 4),), {"kernel_size": (3, 2), "stride": (2, 2), "padding": (1, 1), "ceil_mode": True})),
        _POOL + (Attr("ceil_mode", "bool", False), Attr("count_include_pad", "bool", True),
                 Attr("divisor_override", "opt_int")),
        doc="out = sum over the window / divisor (window size clipped to the padded input, or the real count)",
    ),
    OpSpec(
        "adaptive_avg_pool2d", (Input("input"),), adaptive_shape,
        lambda shapes, at: "MeanBackward1" if tuple(at["output_size"]) == (1, 1) else "AdaptiveAvgPool2DBackward0",
        (Case(((1, 2, 5, 7),), {"output_size": (3, 4)}), Case(((2, 1, 4, 4),), {"output_size": (1, 1)}),
         Case(((2, 5, 7),), {"output_size": (3, 4)})),
        (Attr("output_size", "shape", (1, 1)),),
        doc="mean over rows floor(i H / h) .. ceil((i + 1) H / h) - 1, likewise columns",
    ),
    OpSpec(
        "adaptive_max_pool2d", (Input("input"),), adaptive_shape, "AdaptiveMaxPool2DBackward0",
        (Case(((1, 2, 5, 7),), {"output_size": (3, 4)}), Case(((1, 1, 4, 4),), {"output_size": (2, 2)}),
         Case(((2, 5, 7),), {"output_size": (2, 3)})),
        (Attr("output_size", "shape", (1, 1)),),
        kink="a tie inside a window: the gradient goes to the first maximum (row-major), as torch's index",
        doc="max over rows floor(i H / h) .. ceil((i + 1) H / h) - 1, likewise columns",
    ),
    OpSpec(
        "batch_norm", (Input("input"),) + _STATE + (Input("weight", optional=True), Input("bias", optional=True)),
        batch_norm_shape, "NativeBatchNormBackward0",
        (Case(((3, 2, 2, 2), None, None, (2,), (2,)), {"training": True}),
         Case(((4, 3), None, None, None, None), {"training": True}),
         Case(((2, 2, 3), (2,), (2,), (2,), (2,)), {"training": False})),
        (Attr("training", "bool", False), Attr("momentum", "float", 0.1), Attr("eps", "float", 1e-5)),
        doc="training: (x - mean) / sqrt(var + eps) w + b with the batch's mean and biased variance per "
            "channel; eval: the running statistics. The running-stat update is the caller's state.",
    ),
)
