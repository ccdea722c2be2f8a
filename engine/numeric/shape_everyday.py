"""torch.repeat_interleave and torch.tensor_split (functions and Tensor methods) over catalogue ops.

- ``repeat_interleave(x, repeats: int, dim)``: unsqueeze, expand, reshape (torch's ViewBackward0);
  a tensor of repeats: an index_select of ``np.repeat(arange(n), repeats)`` (IndexSelectBackward0);
  ``repeat_interleave(repeats)`` alone: the int64 index itself. ``dim=None`` flattens first.
- ``tensor_split(x, sections | indices | index tensor, dim)``: torch's pieces (the first
  ``n % sections`` pieces one longer; indices clamped to the dim), each a ``slice`` node
  (SliceBackward0, even when it spans the whole dim).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .dispatch import apply
from .tensor import Tensor


def _dim(x: Tensor, dim: int) -> int:
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _repeat_index(repeats: Tensor, size: int | None) -> np.ndarray:
    counts = np.asarray(repeats._data)
    if counts.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if counts.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got {repeats.dtype}")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    if size is None:
        return np.repeat(np.arange(counts.size), counts.reshape(-1)).astype(np.int64)
    if counts.size not in (1, size):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{counts.size} and input.size(0) = {size}")
    return np.repeat(np.arange(size), np.broadcast_to(counts.reshape(-1), (size,))).astype(np.int64)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    if repeats is None:  # torch.repeat_interleave(repeats): each index repeated its own count
        return Tensor._make(_repeat_index(input, None))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(x, dim)
    if x.ndim == 0:
        x, d = x.reshape(1), 0
    if isinstance(repeats, Tensor):
        index = _repeat_index(repeats, x.shape[d])
        return x.index_select(d, Tensor._make(index))
    r = int(repeats)
    if r < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = list(x.shape)
    wide = x.unsqueeze(d + 1).expand(*shape[:d + 1], r, *shape[d + 1:])
    return wide.reshape(*shape[:d], shape[d] * r, *shape[d + 1:])


def _bounds(n: int, spec: Any) -> list[tuple[int, int]]:
    if isinstance(spec, Tensor):
        if spec._data.dtype.kind not in "iu" or spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {spec.ndim} dims")
        spec = int(spec._data) if spec.ndim == 0 else [int(v) for v in spec._data]
    if isinstance(spec, Sequence):
        cuts = [min(max(int(c) if c >= 0 else n + int(c), 0), n) for c in spec]
        starts = [0, *cuts]
        ends = [*cuts, n]
        return [(a, max(a, b)) for a, b in zip(starts, ends)]
    sections = int(spec)
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    small, extra = divmod(n, sections)
    sizes = [small + 1] * extra + [small] * (sections - extra)
    ends = np.cumsum(sizes).tolist()
    return [(e - s, e) for s, e in zip(sizes, ends)]


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _dim(input, dim)
    return tuple(apply("slice", (input,), {"dim": d, "start": a, "stop": b, "step": 1})
                 for a, b in _bounds(input.shape[d], indices_or_sections))


FUNCTIONS = ("repeat_interleave", "tensor_split")


def install() -> None:
    Tensor.repeat_interleave = repeat_interleave  # type: ignore[attr-defined]
    Tensor.tensor_split = tensor_split  # type: ignore[attr-defined]
