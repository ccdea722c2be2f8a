"""Numeric forward and hand-written VJP of pad, interpolate and pixel_shuffle.

pad's VJP is a crop with the reflected / replicated borders folded back (adjoints.unpad);
resampling is separable, one (out, in) interpolation matrix per spatial dim (one-hot for
nearest), so the VJP is two matmuls with those matrices; pixel_shuffle's VJP is the inverse
permutation. Every VJP is made of catalogue ops, so it is recorded under create_graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..resample_specs import as_2d, linear_taps, nearest_index, pad_index, pad_pairs
from .adjoints import separable_adjoint, unpad
from .ruletools import Arr, Rule
from .unbatched import one_dim


def _pad(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    if at["mode"] == "constant":
        index = pad_index(x.shape, at)
        if x.size == 0:  # an empty input (e.g. the VJP of a pad that cropped a dim away): only the constant
            return np.full(index.shape, at["value"], x.dtype), None
        out = np.where(index >= 0, x.reshape(-1)[np.maximum(index, 0)], np.asarray(at["value"], x.dtype))
        return out.astype(x.dtype, copy=False), None
    pairs = pad_pairs("pad", x.shape, at["pad"])
    # saved as torch's reflection/replication_pad*_backward(grad, self) save self
    return np.pad(x, pairs, mode="reflect" if at["mode"] == "reflect" else "edge"), x


def _pad_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    return (unpad(g, tuple(node.shapes[0]), node.attrs),)


def _nearest_maps(shape: tuple, at: dict) -> list[np.ndarray]:
    scales = (at["scale_h"], at["scale_w"])
    return [nearest_index(shape[2 + d], at["size"][d], scales[d], not at.get("one_dim")) for d in range(2)]


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


def _one_hot(index: np.ndarray, size_in: int, dtype: Any) -> Arr:
    """(out, in) with a 1 at [i, index[i]]: nearest's copy as an interpolation matrix."""
    m = np.zeros((len(index), size_in), dtype)
    m[np.arange(len(index)), index] = 1
    return m


def _interpolate_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """dx = A^T g B per plane, A and B the (out, in) matrices of each spatial dim (one-hot for
    nearest): two matmuls with constants, recorded under create_graph."""
    shape, at = node.shapes[0], node.attrs
    if at["mode"] == "nearest":
        a, b = (_one_hot(m, shape[2 + d], g.dtype) for d, m in enumerate(_nearest_maps(shape, at)))
    else:
        a, b = _matrices(shape, at, g.dtype)
    return (separable_adjoint(g, a, b),)


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
    "interpolate": one_dim(Rule(_interpolate, _interpolate_vjp), as_2d),  # (N, C, L) as (N, C, 1, L)
    "pixel_shuffle": Rule(lambda xs, at: (_shuffle(xs[0], at["upscale_factor"]), None),
                          lambda g, saved, node: (_unshuffle(g, node.attrs["upscale_factor"]),)),
}
