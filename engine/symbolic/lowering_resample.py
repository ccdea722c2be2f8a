"""SymPy forward lowering of pad, interpolate and pixel_shuffle: copies are gathers (the pad
constant a constant template), bilinear resampling two stages of (1 - l) a + l b, one per
spatial dim, with l the exact weight torch uses. Derivatives come only from ``sympy.diff``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..resample_specs import as_2d, linear_taps, nearest_index, pad_index
from .templates import Group, Stage, args, gather_only, grid
from .templates import exact_number as _num

Shapes = Sequence[Any]


def lower_pad(shapes: Shapes, at: dict) -> list[Stage]:
    index = pad_index(tuple(shapes[0]), at).reshape(-1)
    keep = index >= 0
    positions = np.arange(len(index))
    groups = [Group(args(1)[0], (0,), positions[keep], index[keep].reshape(-1, 1))]
    if (~keep).any():
        groups.append(Group(_num(at["value"]), (), positions[~keep], np.zeros((int((~keep).sum()), 0), np.int64)))
    return [Stage(len(index), tuple(groups))]


def _lerp_stage(src_shape: tuple, axis: int, taps: tuple, source: int) -> tuple[Stage, tuple]:
    """out[.., i, ..] = (1 - l_i) src[.., i0_i, ..] + l_i src[.., i1_i, ..], grouped by l."""
    i0, i1, lam = taps
    g = grid(src_shape)
    a, b = np.take(g, i0, axis=axis), np.take(g, i1, axis=axis)
    shape = a.shape
    view = [1] * len(shape)
    view[axis] = len(lam)
    weights = np.broadcast_to(lam.reshape(view), shape).reshape(-1)
    a, b = a.reshape(-1), b.reshape(-1)
    s = args(2)
    groups = []
    for value in np.unique(weights):
        members = np.nonzero(weights == value)[0]
        w = _num(float(value))
        groups.append(Group((1 - w) * s[0] + w * s[1], (source, source), members,
                            np.stack([a[members], b[members]], axis=1)))
    return Stage(len(a), tuple(groups)), shape


def lower_interpolate(shapes: Shapes, at: dict) -> list[Stage]:
    """A 1-D (N, C, L) input resampled as the (N, C, 1, L) image (the same flat layout)."""
    x, at = as_2d(tuple(shapes[0]), at)
    scales = (at["scale_h"], at["scale_w"])
    if at["mode"] == "nearest":
        ih, iw = (nearest_index(x[2 + d], at["size"][d], scales[d], not at.get("one_dim")) for d in range(2))
        return [gather_only(grid(x)[:, :, ih[:, None], iw[None, :]], 0)]
    taps = [linear_taps(x[2 + d], at["size"][d], scales[d], at["align_corners"]) for d in range(2)]
    first, mid = _lerp_stage(x, 2, taps[0], 0)
    second, _ = _lerp_stage(mid, 3, taps[1], len(shapes))
    return [first, second]


def lower_pixel_shuffle(shapes: Shapes, at: dict) -> list[Stage]:
    x, r = tuple(shapes[0]), at["upscale_factor"]
    lead, (c, h, w) = x[:-3], x[-3:]
    k = len(lead)
    g = grid(x).reshape(lead + (c // (r * r), r, r, h, w))
    g = np.transpose(g, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return [gather_only(g, 0)]


RESAMPLE_LOWERING = {"pad": lower_pad, "interpolate": lower_interpolate, "pixel_shuffle": lower_pixel_shuffle}
