"""torch's indexing forms beyond integers and slices, each lowered to catalogue ops: ``x[None]`` and
``x[..., 1]`` (unsqueeze / full slices), ``x[mask]`` with a bool mask (reshape + ``index``),
``x[:, idx]`` with a 1-D int64 tensor (index_select, shown as IndexBackward0), several index
tensors (tensor_multi_index.py), and torch's
IndexError for an integer out of range. Installed as ``Tensor.__getitem__``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import tensor_multi_index
from .tensor import Tensor
from .tensor_math import TensorMath, _renamed

_BASE = TensorMath.__getitem__


def _is_tensor_index(item: Any) -> bool:
    return isinstance(item, list) or isinstance(item, Tensor) and item._data.dtype.kind in "biu"


def _expand_ellipsis(items: tuple, ndim: int) -> tuple:
    if not any(item is Ellipsis for item in items):
        return items
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    at = next(i for i, item in enumerate(items) if item is Ellipsis)
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    return items[:at] + (slice(None),) * max(ndim - used, 0) + items[at + 1:]


def _check_ints(x: Tensor, items: tuple) -> None:
    """torch's IndexError for an integer out of range (before any op runs)."""
    dim = 0
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool) and dim < x.ndim:
            n = x.shape[dim]
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {n}")
        dim += item is not None


def _masked(x: Tensor, mask: Tensor) -> Tensor:
    """x[mask]: the elements (or rows) where a bool mask over x's leading dims is true."""
    k = mask.ndim
    if tuple(mask.shape) != tuple(x.shape[:k]):
        raise IndexError(f"The shape of the mask {list(mask.shape)} does not match the shape of the "
                         f"indexed tensor {list(x.shape)}")
    flat = x.reshape((-1, *x.shape[k:]))
    where = np.flatnonzero(mask._data).astype(np.int64)
    return flat._index_tensor(Tensor._make(where))


def _as_index(item: Any) -> Any:
    """A list of Python bools is a mask, as torch reads it (numpy would read it as 0/1 indices); a
    numpy integer or bool array indexes as the tensor it would make."""
    if isinstance(item, list) and item and np.asarray(item).dtype == np.bool_:
        return Tensor._make(np.asarray(item))
    if isinstance(item, np.ndarray) and item.dtype.kind in "biu":
        return Tensor._make(item.astype(np.int64) if item.dtype.kind in "iu" else item)
    return item


def getitem(self: Tensor, index: Any) -> Any:
    """torch's indexing; never ``self`` itself: ``x[:]`` is a new view (SliceBackward0), ``x[...]``
    and other all-full indexes an alias (AliasBackward0), sharing x's memory as torch's views do."""
    if type(index) is slice and index == slice(None):
        if not self._data.ndim:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        return self._unary("slice", dim=0, start=None, stop=None, step=1)
    out = _getitem(self, index)
    return _alias(self) if out is self else out


def _alias(x: Tensor) -> Tensor:
    """A view of all of x (torch's alias): a full slice, or a same-shape reshape of a 0-d x."""
    view = x.reshape(()) if not x._data.ndim else x._unary("slice", dim=0, start=None, stop=None, step=1)
    return _renamed(view, "AliasBackward0")


def _getitem(self: Tensor, index: Any) -> Any:
    kind = type(index)
    if kind is slice:  # the common forms go straight to the integer/slice path
        return _BASE(self, index)
    if kind is int:
        shape = self._data.shape
        if shape and -shape[0] <= index < shape[0]:
            return _BASE(self, index)
    elif kind is tuple and all(type(i) is slice or type(i) is int for i in index):
        _check_ints(self, index)
        return _BASE(self, index)
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_as_index(item) for item in items)
    if len(items) == 1 and isinstance(items[0], Tensor) and items[0]._data.dtype == np.bool_:
        return _masked(self, items[0])
    items = _expand_ellipsis(items, self.ndim)
    _check_ints(self, items)
    x, plain = self, []
    for dim, item in enumerate(items):
        if item is None:
            x = x.unsqueeze(dim)
        plain.append(slice(None) if item is None else item)
    tensors = [i for i, item in enumerate(plain) if _is_tensor_index(item)]
    only = plain[tensors[0]] if len(tensors) == 1 else None
    if isinstance(only, Tensor) and only._data.ndim == 0 and only._data.dtype.kind in "iu":
        plain[tensors[0]] = int(only._data)  # a 0-d index tensor selects, as an int
        _check_ints(x, tuple(plain))
        tensors = []
    if not tensors:
        return _BASE(x, tuple(plain))
    if tensors == [0] and all(isinstance(i, slice) and i == slice(None) for i in plain[1:]):
        return _BASE(x, plain[0])  # x[idx]: IndexBackward0, any index shape
    if len(tensors) > 1 or any(getattr(getattr(plain[i], "_data", None), "dtype", None) == np.bool_ for i in tensors):
        return tensor_multi_index.several(_BASE, x, plain, tensors)
    return _one_tensor(x, plain, tensors[0])


def _one_tensor(x: Tensor, plain: list, at: int) -> Tensor:
    """x[..., idx, ...]: the other items first, then index_select along idx's dim (a 1-D idx)."""
    idx = plain[at]
    idx = idx if isinstance(idx, Tensor) else Tensor._make(np.asarray(idx, np.int64))
    rest = tuple(slice(None) if i == at else item for i, item in enumerate(plain))
    y = _BASE(x, rest)
    d = at - sum(1 for item in plain[:at] if not isinstance(item, slice))
    n = y.shape[d]
    index = Tensor._make(np.where(idx._data < 0, idx._data + n, idx._data).astype(np.int64).reshape(-1))
    out = y.index_select(d, index)
    if idx.ndim != 1:  # an n-D index: its shape takes the place of the dim (a selection, then a view)
        out = out.view(*y.shape[:d], *idx.shape, *y.shape[d + 1:])
    return _renamed(out, "IndexBackward0")


Tensor.__getitem__ = getitem  # type: ignore[method-assign,assignment]
