"""Catalogue entries for convolutions (conv1d, conv2d, conv_transpose1d/2d): attributes,
shape rules with torch's checks, cases. Appended to the catalogue by engine/ops.py.

``padding`` holds one int per spatial dim (symmetric, torch's form) or two per dim
``(lo_0, hi_0, lo_1, hi_1, ...)``: torch's ``padding="same"`` with an even kernel pads one more
on the high side, and the functional layer resolves it into that form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ShapeError
from .ops import Attr, Case, Input, OpSpec


def pairs(op: str, padding: Sequence[int], nd: int) -> list[tuple[int, int]]:
    """Per spatial dim (low, high) padding from the attribute."""
    pad = tuple(padding)
    if len(pad) == nd:
        out = [(p, p) for p in pad]
    elif len(pad) == 2 * nd:
        out = [(pad[2 * d], pad[2 * d + 1]) for d in range(nd)]
    else:
        raise ShapeError(op, f"padding {list(pad)} must have {nd} or {2 * nd} entries")
    if any(p < 0 for pair in out for p in pair):
        raise ShapeError(op, f"negative padding {list(pad)}")
    return out


def _tuple_attr(op: str, at: dict, name: str, nd: int, minimum: int) -> tuple[int, ...]:
    value = tuple(at[name])
    if len(value) != nd or any(v < minimum for v in value):
        raise ShapeError(op, f"{name} {list(value)} must be {nd} ints >= {minimum}")
    return value


def _check_input(op: str, x: Sequence[int], w: Sequence[int], nd: int) -> None:
    if len(x) != nd + 2:
        raise ShapeError(op, f"expected a {nd + 2}-D input (batch, channels, {nd} spatial), "
                             f"got input of shape {list(x)}")
    if len(w) != nd + 2:
        raise ShapeError(op, f"expected a {nd + 2}-D weight, got weight of shape {list(w)}")


def _operands(op: str, shapes: Sequence[Any], at: dict) -> tuple:
    """Input, weight and bias shapes (ranks checked), spatial dims, groups, stride, dilation."""
    x, w, b = tuple(shapes[0]), tuple(shapes[1]), shapes[2] if len(shapes) > 2 else None
    nd = len(at["stride"])
    _check_input(op, x, w, nd)
    stride, dil = _tuple_attr(op, at, "stride", nd, 1), _tuple_attr(op, at, "dilation", nd, 1)
    return x, w, b, nd, at["groups"], stride, dil


def conv_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    """torch's conv output size: (in + lo + hi - dilation (k - 1) - 1) // stride + 1."""
    x, w, b, nd, groups, stride, dil = _operands(op, shapes, at)
    if groups < 1 or x[1] % groups or w[0] % groups:
        raise ShapeError(op, f"groups={groups} must divide in_channels {x[1]} and out_channels {w[0]}")
    if w[1] * groups != x[1]:
        raise ShapeError(op, f"weight of shape {list(w)} with groups={groups} expects {w[1] * groups} "
                             f"input channels, got input of shape {list(x)}")
    if b is not None and tuple(b) != (w[0],):
        raise ShapeError(op, f"bias of shape {list(b)} must be ({w[0]},)")
    out = []
    for d, (lo, hi) in enumerate(pairs(op, at["padding"], nd)):
        span = dil[d] * (w[2 + d] - 1) + 1
        if x[2 + d] + lo + hi < span:
            raise ShapeError(op, f"kernel size {span} (dilated) is larger than the padded input size "
                                 f"{x[2 + d] + lo + hi} in spatial dim {d}: input {list(x)}, weight {list(w)}")
        out.append((x[2 + d] + lo + hi - span) // stride[d] + 1)
    return (x[0], w[0]) + tuple(out)


def conv_transpose_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    """(in - 1) stride - lo - hi + dilation (k - 1) + output_padding + 1."""
    x, w, b, nd, groups, stride, dil = _operands(op, shapes, at)
    extra = _tuple_attr(op, at, "output_padding", nd, 0)
    if groups < 1 or x[1] % groups or w[0] != x[1]:
        raise ShapeError(op, f"weight of shape {list(w)} with groups={groups} does not fit input of shape {list(x)}")
    if b is not None and tuple(b) != (w[1] * groups,):
        raise ShapeError(op, f"bias of shape {list(b)} must be ({w[1] * groups},)")
    out = []
    for d, (lo, hi) in enumerate(pairs(op, at["padding"], nd)):
        if extra[d] >= max(stride[d], dil[d]):
            raise ShapeError(op, f"output_padding {extra[d]} must be smaller than stride or dilation")
        size = (x[2 + d] - 1) * stride[d] - lo - hi + dil[d] * (w[2 + d] - 1) + extra[d] + 1
        if size <= 0:
            raise ShapeError(op, f"output size {size} in spatial dim {d} is not positive: "
                                 f"input {list(x)}, weight {list(w)}")
        out.append(size)
    return (x[0], w[1] * groups) + tuple(out)


def _inputs() -> tuple[Input, ...]:
    return (Input("input"), Input("weight"), Input("bias", optional=True))


def _attrs(nd: int, transpose: bool) -> tuple[Attr, ...]:
    one, zero = (1,) * nd, (0,) * nd
    extra = (Attr("output_padding", "shape", zero),) if transpose else ()
    return (Attr("stride", "shape", one), Attr("padding", "shape", zero)) + extra + (
        Attr("dilation", "shape", one), Attr("groups", "int", 1))


CONV_SPECS: tuple[OpSpec, ...] = (
    OpSpec(
        "conv1d", _inputs(), conv_shape, "ConvolutionBackward0",
        (Case(((2, 2, 7), (3, 2, 3), (3,))),
         Case(((1, 4, 9), (4, 2, 2), None), {"stride": (2,), "padding": (1,), "groups": 2}),
         Case(((1, 2, 8), (2, 1, 3), (2,)), {"dilation": (2,), "padding": (1, 2), "groups": 2})),
        _attrs(1, False),
        doc="out[n, o, i] = b[o] + sum_{c, p} x[n, g C/G + c, s i + d p - pad] w[o, c, p] (zero padding)",
    ),
    OpSpec(
        "conv2d", _inputs(), conv_shape, "ConvolutionBackward0",
        (Case(((1, 2, 5, 5), (2, 2, 3, 3), (2,))),
         Case(((2, 1, 6, 5), (2, 1, 2, 3), None), {"stride": (2, 1), "padding": (1, 0)}),
         Case(((1, 2, 7, 6), (2, 1, 2, 2), (2,)), {"dilation": (2, 1), "groups": 2, "padding": (1, 1)}),
         Case(((1, 3, 5, 4), (3, 1, 3, 2), None), {"groups": 3, "stride": (2, 2), "padding": (1, 1, 0, 1)})),
        _attrs(2, False),
        doc="out[n, o, i, j] = b[o] + sum_{c, p, q} x[n, c', s i + d p - pad, s j + d q - pad] w[o, c, p, q]",
    ),
    OpSpec(
        "conv_transpose1d", _inputs(), conv_transpose_shape, "ConvolutionBackward0",
        (Case(((1, 2, 4), (2, 3, 3), (3,)), {"stride": (2,), "padding": (1,), "output_padding": (1,)}),),
        _attrs(1, True),
        doc="the adjoint of conv1d in its input: each x[n, c, i] adds x w[c, o, p] at s i + d p - pad",
    ),
    OpSpec(
        "conv_transpose2d", _inputs(), conv_transpose_shape, "ConvolutionBackward0",
        (Case(((1, 2, 3, 3), (2, 2, 3, 3), (2,)), {"stride": (2, 2), "padding": (1, 1), "output_padding": (1, 0)}),
         Case(((1, 2, 3, 2), (2, 1, 2, 2), None), {"groups": 2, "dilation": (2, 1)})),
        _attrs(2, True),
        doc="the adjoint of conv2d in its input (stride, padding, output_padding, dilation, groups)",
    ),
)
