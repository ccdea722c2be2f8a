"""``x[i, j]``, ``x[torch.arange(n), y]``, ``x[:, i, j]``: several index tensors in one subscript,
as torch reads them — integers and slices apply first, then the index tensors (int64, lists, or
bool masks standing for their nonzero positions) broadcast together and pick elements; their
dims go where the first index tensor stood when the tensors are adjacent, else first (numpy's
rule). Lowered to catalogue ops: a permute bringing the indexed dims forward, a reshape merging
them, and one ``index`` of the flat positions (grad_fn IndexBackward0, as torch's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor
from .tensor_math import _renamed


def _as_arrays(item: Any) -> list[np.ndarray]:
    """An index item as int64 arrays: a bool mask stands for its nonzero positions (one per dim)."""
    arr = item._data if isinstance(item, Tensor) else np.asarray(item)
    if arr.dtype == np.bool_:
        return [p.astype(np.int64) for p in np.nonzero(arr)]
    if arr.dtype.kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return [arr.astype(np.int64)]


def several(base: Any, x: Tensor, plain: list, tensors: list[int]) -> Tensor:
    """x[plain] where ``plain`` (slices, ints and index tensors, no None/Ellipsis) holds several tensors."""
    y = base(x, tuple(slice(None) if i in tensors else item for i, item in enumerate(plain)))
    dims: list[int] = []  # y's dim of each index array
    arrays: list[np.ndarray] = []
    dim = 0
    for i, item in enumerate(plain):
        if i in tensors:
            parts = _as_arrays(item)
            dims.extend(range(dim, dim + len(parts)))
            arrays.extend(parts)
            dim += len(parts)
        elif isinstance(item, slice):
            dim += 1
    try:
        picks = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(str(list(a.shape)) for a in arrays)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes "
                         f"[{shapes}]") from None
    sizes = [y.shape[d] for d in dims]
    for d, p, n in zip(dims, picks, sizes):
        if p.size and (p.max() >= n or p.min() < -n):
            bad = int(p.max()) if p.max() >= n else int(p.min())
            raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    flat = np.ravel_multi_index(tuple(np.where(p < 0, p + n, p) for p, n in zip(picks, sizes)), sizes) \
        if sizes else np.zeros(picks[0].shape, np.int64)
    rest = [d for d in range(y.ndim) if d not in dims]
    moved = y.permute(*dims, *rest).reshape(-1, *[y.shape[d] for d in rest])
    out = moved[Tensor._make(np.asarray(flat, np.int64))]
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if adjacent and dims[0]:  # the picked dims back where the first index tensor stood
        b, k = len(picks[0].shape), dims[0]
        out = out.permute(*range(b, b + k), *range(b), *range(b + k, out.ndim))
    return _renamed(out, "IndexBackward0")
