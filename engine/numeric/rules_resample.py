"""Numeric forward and hand-written VJP of pad, interpolate and pixel_shuffle.

Copies (pad, nearest) scatter the gradient back through their index map with bincount;
bilinear resampling is separable, one (out, in) interpolation matrix per spatial dim, so its
forward and VJP are einsums with those matrices; pixel_shuffle's VJP is the inverse permutation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..resample_specs import linear_taps, nearest_index, pad_index, pad_pairs
from .ruletools import Arr, Rule


def _scatter(g: Arr, index: np.ndarray, shape: tuple) -> Arr:
    """Sum g into the input elements ``index`` names (-1: a constant, no gradient)."""
    flat, keep = index.reshape(-1), index.reshape(-1) >= 0
    size = int(np.prod(shape, dtype=np.int64))
    return np.bincount(flat[keep], g.reshape(-1)[keep], minlength=size).reshape(shape).astype(g.dtype)


def _pad(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    if at["mode"] == "constant":
        index = pad_index(x.shape, at)
        out = np.where(index >= 0, x.reshape(-1)[np.maximum(index, 0)], np.asarray(at["value"], x.dtype))
        return out.astype(x.dtype, copy=False), None
    pairs = pad_pairs("pad", x.shape, at["pad"])
    return np.pad(x, pairs, mode="reflect" if at["mode"] == "reflect" else "edge"), None


def _pad_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    return (_scatter(g, pad_index(node.shapes[0], node.attrs), node.shapes[0]),)


def _nearest_maps(shape: tuple, at: dict) -> list[np.ndarray]:
    scales = (at["scale_h"], at["scale_w"])
    return [nearest_index(shape[2 + d], at["size"][d], scales[d]) for d in range(2)]


def interp_matrix(size_in: int, size_out: int, given: float, align_corners: bool) -> Arr:
    """(out, in): row i holds 1 - lambda at i0 and lambda at i1."""
    i0, i1, lam = linear_taps(size_in, size_out, given, align_corners)
    m = np.zeros((size_out, size_in))
    np.add.at(m, (np.arange(size_out), i0), 1 - lam)
    np.add.at(m, (np.arange(size_out), i1), lam)
    return m


def _matrices(shape: tuple, at: dict, dtype: Any) -> tuple[Arr, Arr]:
    scales = (at["scale_h"], at["scale_w"])
    a, b = (interp_matrix(shape[2 + d], at["size"][d], scales[d], at["align_corners"]).astype(dtype)
            for d in range(2))
    return a, b


def _interpolate(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    if at["mode"] == "nearest":
        ih, iw = _nearest_maps(x.shape, at)
        return x[:, :, ih[:, None], iw[None, :]], None
    a, b = _matrices(x.shape, at, x.dtype)
    return np.einsum("ih,nchw,jw->ncij", a, x, b, optimize=True), None


def _interpolate_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    shape, at = node.shapes[0], node.attrs
    if at["mode"] == "nearest":
        ih, iw = _nearest_maps(shape, at)
        plane = np.arange(shape[0] * shape[1]).reshape(shape[0], shape[1], 1, 1)
        index = (plane * shape[2] + ih[:, None]) * shape[3] + iw[None, :]
        return (_scatter(g, index, shape),)
    a, b = _matrices(shape, at, g.dtype)
    return (np.einsum("ih,ncij,jw->nchw", a, g, b, optimize=True),)


def _shuffle(x: Arr, r: int) -> Arr:
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    y = x.reshape(lead + (c // (r * r), r, r, h, w))
    k = len(lead)
    y = np.transpose(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def _unshuffle(g: Arr, r: int) -> Arr:
    lead, (c, h, w) = g.shape[:-3], g.shape[-3:]
    k = len(lead)
    y = g.reshape(lead + (c, h // r, r, w // r, r))
    y = np.transpose(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return y.reshape(lead + (c * r * r, h // r, w // r))


RESAMPLE_RULES: dict[str, Rule] = {
    "pad": Rule(_pad, _pad_vjp),
    "interpolate": Rule(_interpolate, _interpolate_vjp),
    "pixel_shuffle": Rule(lambda xs, at: (_shuffle(xs[0], at["upscale_factor"]), None),
                          lambda g, saved, node: (_unshuffle(g, node.attrs["upscale_factor"]),)),
}
