"""interpolate's modes beyond the catalogue's nearest/linear/bilinear, as chains of catalogue ops
(torch's index rules, separable per spatial dim): 'nearest-exact' and 'bicubic' pick rows with
index_select (bicubic: 4 clamped taps weighted by torch's cubic convolution, A = -0.75), 'area'
is adaptive average pooling (as torch computes it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .tensor import Tensor

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
    return out
