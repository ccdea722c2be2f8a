"""interpolate's modes beyond the catalogue's nearest/linear/bilinear, as chains of catalogue ops
(torch's index rules, separable per spatial dim): 'nearest-exact' and 'bicubic' pick rows with
index_select (bicubic: 4 clamped taps weighted by torch's cubic convolution, A = -0.75), 'area'
is adaptive average pooling (as torch computes it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Tensor
from .tensor_math import _renamed

A = -0.75  # torch's cubic convolution coefficient


def _scale(size_in: int, size_out: int, given: float, align_corners: bool) -> float:
    if align_corners:
        return (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
    return 1.0 / given if given > 0 else size_in / size_out


def _nearest_exact(x: Tensor, dim: int, size_out: int, given: float) -> Tensor:
    """src = min(floor((dst + 0.5) * scale), in - 1)."""
    n = x.shape[dim]
    src = np.minimum(np.floor((np.arange(size_out) + 0.5) * _scale(n, size_out, given, False)), n - 1)
    return x.index_select(dim, Tensor._make(src.astype(np.int64)))


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """torch's upsample_bicubic2d weights of the taps at floor - 1, floor, floor + 1, floor + 2."""
    def near(s: np.ndarray) -> np.ndarray:
        return ((A + 2) * s - (A + 3)) * s * s + 1

    def far(s: np.ndarray) -> np.ndarray:
        return ((A * s - 5 * A) * s + 8 * A) * s - 4 * A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(x: Tensor, dim: int, size_out: int, given: float, align_corners: bool) -> Tensor:
    n = x.shape[dim]
    scale = _scale(n, size_out, given, align_corners)
    dst = np.arange(size_out, dtype=np.float64)
    real = scale * dst if align_corners else scale * (dst + 0.5) - 0.5
    floor = np.floor(real)
    view = [1] * x.dim()
    view[dim] = size_out
    total: Tensor | None = None
    for k, w in enumerate(_cubic_weights(real - floor)):
        taps = np.clip(floor - 1 + k, 0, n - 1).astype(np.int64)
        term = x.index_select(dim, Tensor._make(taps)) * Tensor._make(w.astype(x._data.dtype).reshape(view))
        total = term if total is None else total + term
    assert total is not None
    return total


def resample(input: Tensor, size: Sequence[int], scales: Sequence[float], mode: str,
             align_corners: bool) -> Tensor:
    """``input`` (N, C, *spatial) resampled to ``size`` by ``mode``; scales are the given factors
    (0 where the size decides)."""
    nd = len(size)
    if mode == "area":
        from .functional_cnn import adaptive_avg_pool2d
        from .functional_extra import adaptive_avg_pool1d
        return adaptive_avg_pool1d(input, size) if nd == 1 else adaptive_avg_pool2d(input, tuple(size))
    if mode == "bicubic" and input.dim() != 4:
        raise NotImplementedError(f"Got {input.dim()}D input, but bicubic mode needs 4D input")
    out = input
    for d in range(nd):
        dim = input.dim() - nd + d
        if mode == "nearest-exact":
            out = _nearest_exact(out, dim, int(size[d]), float(scales[d]))
        else:
            out = _bicubic(out, dim, int(size[d]), float(scales[d]), align_corners)
    name = f"UpsampleNearestExact{nd}DBackward0" if mode == "nearest-exact" else "UpsampleBicubic2DBackward0"
    return _renamed(out, name) if out is not input else out  # torch's one node's name


def _aa_filter(mode: str, s: np.ndarray) -> np.ndarray:
    """torch's antialias filters: a triangle (bilinear), a cubic with a = -0.5 (bicubic)."""
    s = np.abs(s)
    if mode == "bilinear":
        return np.maximum(1 - s, 0.0)
    a = -0.5
    near = ((a + 2) * s - (a + 3)) * s * s + 1
    far = (((s - 5) * s + 8) * s - 4) * a
    return np.where(s < 1, near, np.where(s < 2, far, 0.0))


def _aa_matrix(mode: str, size_in: int, size_out: int, given: float, align_corners: bool) -> np.ndarray:
    """(out, in) weights of torch's antialiased resampling along one dim (its _compute_weights_aa):
    the filter widened by the scale when downsampling, normalized per output element."""
    scale = _scale(size_in, size_out, given, align_corners)
    support = (2.0 if mode == "bilinear" else 4.0) * 0.5 * (scale if scale >= 1.0 else 1.0)
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    w = np.zeros((size_out, size_in))
    for i in range(size_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), size_in)
        taps = _aa_filter(mode, (np.arange(lo, hi) - center + 0.5) * invscale)
        total = taps.sum()
        w[i, lo:hi] = taps / total if total != 0 else taps
    return w


def antialiased(input: Tensor, size: Sequence[int], scales: Sequence[float], mode: str,
                align_corners: bool) -> Tensor:
    """interpolate(..., antialias=True) for bilinear/bicubic of (N, C, H, W): per spatial dim a
    product with torch's antialias weight matrix (a constant)."""
    out = input
    for d in range(2):
        dim = 2 + d
        w = _aa_matrix(mode, out.shape[dim], int(size[d]), float(scales[d]), align_corners)
        moved = out.transpose(dim, -1)
        out = (moved @ Tensor._make(w.T.astype(input._data.dtype))).transpose(dim, -1)
    return _renamed(out, f"Upsample{mode.capitalize()}2DAaBackward0")


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """torch's deprecated F.upsample_nearest: interpolate(mode='nearest')."""
    from .functional_cnn import interpolate
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """torch's deprecated F.upsample_bilinear: interpolate(mode='bilinear', align_corners=True)."""
    from .functional_cnn import interpolate
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
