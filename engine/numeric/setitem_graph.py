"""``x[index] = value`` inside a graph, as torch records it (grad_fn CopySlices).

torch's ``out = torch.zeros(2, 3); out[0] = w * 2`` makes ``out`` a non-leaf whose gradient reaches
``w``. crossgrad wrote the values only, so ``w`` silently lost that gradient. Here the write is
computed out of place from catalogue ops — ``x`` with the written positions zeroed, plus the value
scattered into them (scatter_add over the flat positions) — and ``x`` is rebased on the result
(``inplace_forms.commit``: refused on a slice of a graph tensor, on a leaf that requires grad).
Outside a graph the plain numpy write is kept. Advanced indices that name a position twice are
refused: which write wins is undefined in torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import _mode, node_class
from .inplace_forms import commit
from .shape_api import scatter_add
from .tensor import Tensor

_PLAIN = Tensor.__setitem__


def _raw_index(index: Any) -> Any:
    """The index with its tensors as numpy arrays (numpy's indexing then names the same positions)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, list):
        return [_raw_index(i) for i in index]
    return index


def _advanced(index: Any) -> bool:
    """An index with a tensor, array or list in it (torch's index_put_), not only ints and slices."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, Tensor | np.ndarray | list) for i in items)


def _source(value: Any, like: Tensor, shape: tuple) -> Tensor:
    """value as a tensor of like's dtype, broadcast to the written region's shape (leading 1s dropped)."""
    src = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=like._data.dtype))
    if src.dtype != like.dtype:
        src = src.to(like.dtype)
    while src.ndim > len(shape) and src.shape[0] == 1:
        src = src.squeeze(0)
    return src.expand(*shape) if tuple(src.shape) != shape else src


def setitem(self: Tensor, index: Any, value: Any) -> None:
    needs = isinstance(value, Tensor) and value._requires_grad
    if not (_mode.enabled and (self.grad_fn is not None or needs)):
        _PLAIN(self, index, value)
        return
    positions = np.asarray(np.arange(self._data.size).reshape(self._data.shape)[_raw_index(index)])
    flat = positions.reshape(-1)
    if np.unique(flat).size != flat.size:
        raise RuntimeError("x[index] = value inside a graph: the index names a position twice (which write "
                           "wins is undefined in torch); write each position once")
    keep = np.ones(self._data.size, self._data.dtype)
    keep[flat] = 0
    src = _source(value, self, positions.shape)
    new = scatter_add(self.reshape(-1) * Tensor._make(keep), 0, Tensor._make(flat.astype(np.int64)),
                      src.reshape(-1)).view(*self.shape)
    new.grad_fn.__class__ = node_class("IndexPutBackward0" if _advanced(index) else "CopySlices")
    commit("__setitem__", self, new)


def install() -> None:
    Tensor.__setitem__ = setitem  # type: ignore[method-assign]
