"""F.pad's cases the catalogue's ``pad`` op does not take itself, composed from catalogue ops as
torch computes them: negative pads in reflect/replicate mode (pad by the positive parts, then
crop — torch's result when a crop and a reflection overlap) and circular mode (crop the negative
parts, then wrap each padded dim around with ``cat`` of slices; grad_fn CopySlices, as torch's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import ops
from ..errors import ShapeError
from ..resample_specs import check_pad_rank, pad_pairs
from . import shape_api
from .dispatch import apply
from .tensor import Tensor
from .tensor_math import _renamed


def _crop(x: Tensor, pairs: list[tuple[int, int]]) -> Tensor:
    """x without the negative parts of each (before, after) pair."""
    index = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape, pairs))
    return x[index]


def _take(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def _run_pad(x: Tensor, pads: tuple[int, ...], mode: str, value: float) -> Tensor:
    spec = ops.CATALOGUE["pad"]
    attrs = ops.resolve_attrs(spec, {"pad": pads, "mode": mode, "value": value})
    spec.out_shape([tuple(x.shape)], attrs)
    return apply("pad", (x,), attrs)


def pad(input: Tensor, pads: Sequence[int], mode: str, value: float) -> Tensor:
    pads = tuple(int(p) for p in pads)
    if mode == "circular":
        return circular(input, pads)
    if mode == "constant" or min(pads, default=0) >= 0:
        return _run_pad(input, pads, mode, value)
    out = _run_pad(input, tuple(max(p, 0) for p in pads), mode, value)
    name = type(out.grad_fn).__name__ if out.grad_fn is not None else ""
    cropped = _crop(out, pad_pairs("pad", tuple(input.shape), pads))
    return _renamed(cropped, name) if name else cropped


def circular(input: Tensor, pads: tuple[int, ...]) -> Tensor:
    """Crop, then per padded dim cat(x[-before:], x, x[:after])."""
    shape = tuple(input.shape)
    pairs = pad_pairs("pad", shape, pads)
    check_pad_rank("pad", shape, {"pad": pads, "mode": "circular"})
    x = _crop(input, pairs)
    for dim, (lo, hi) in enumerate(pairs):
        size = x.shape[dim]
        if max(lo, hi) > size:
            raise ShapeError("pad", "Padding value causes wrapping around more than once.")
        parts: list[Any] = []
        if lo > 0:
            parts.append(_take(x, dim, size - lo, lo))
        parts.append(x)
        if hi > 0:
            parts.append(_take(x, dim, 0, hi))
        if len(parts) > 1:
            x = shape_api.cat(parts, dim)
    return _renamed(x, "CopySlices") if x.grad_fn is not None else x
