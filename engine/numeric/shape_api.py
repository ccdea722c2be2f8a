"""The torch-style surface of the shape and indexing ops: functions (crossgrad.cat, ...) and the
Tensor methods mixed into TensorMath. split and chunk return several ``slice`` nodes, one per
piece (no IR node has several outputs), as PyTorch's SplitBackward0 pieces are views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DtypeError, IndexRangeError, ShapeError
from ..shape_specs import INDEX_BOUND
from .autograd import node_class
from .dispatch import apply


def _ints(xs: Sequence[Any]) -> tuple[int, ...]:
    if len(xs) == 1 and isinstance(xs[0], (tuple, list)):
        xs = tuple(xs[0])
    return tuple(int(x) for x in xs)


def _check_index(op: str, x: Any, index: Any, attrs: dict) -> None:
    """Eager range check, as torch's: a typed IndexError naming the op and the value (for
    embedding, ``x`` is the indices and ``index`` the weight: its input order)."""
    if op == "embedding":
        x, index = index, x
    if index._data.dtype != np.int64:
        raise DtypeError(op, f"Expected dtype int64 for index, got {index._data.dtype}")
    n = INDEX_BOUND[op]((index.shape, x.shape) if op == "embedding" else (x.shape, index.shape), attrs)
    lo = -n if op == "index" else 0
    bad = (index._data < lo) | (index._data >= n)
    if bad.any():
        dim = attrs.get("dim", 0) % max(x.ndim if op != "embedding" else 2, 1)
        raise IndexRangeError(op, int(index._data[bad][0]), n, dim)


def _indexed(op: str, x: Any, index: Any, attrs: dict) -> Any:
    _check_index(op, x, index, attrs)
    return apply(op, (x, index), attrs)


def _tensors(op: str, tensors: Sequence[Any]) -> tuple:
    if isinstance(tensors, (list, tuple)) and not tensors:  # torch: ValueError from cat, RuntimeError from stack
        kind = RuntimeError if op == "stack" else ValueError
        raise kind(f"{op}(): expected a non-empty list of Tensors")
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): expected a non-empty list or tuple of Tensors, got {type(tensors).__name__}")
    return tuple(tensors)


def cat(tensors: Sequence[Any], dim: int = 0) -> Any:
    """torch.cat: one CatBackward0 node whose inputs are all the tensors (a variadic input)."""
    return apply("cat", _skip_legacy_empty(_tensors("cat", tensors)), {"dim": int(dim)})


def _skip_legacy_empty(tensors: tuple) -> tuple:
    """torch.cat skips 1-D empty tensors (``torch.tensor([])``) beside tensors of other ranks."""
    empty = [getattr(t, "shape", None) == (0,) for t in tensors]
    if not any(empty) or all(empty) or all(getattr(t, "ndim", 1) == 1 for t in tensors):
        return tensors
    return tuple(t for t, e in zip(tensors, empty, strict=True) if not e)


def stack(tensors: Sequence[Any], dim: int = 0) -> Any:
    return apply("stack", _tensors("stack", tensors), {"dim": int(dim)})


def unsqueeze(input: Any, dim: int) -> Any:
    return apply("unsqueeze", (input,), {"dim": int(dim)})


def squeeze(input: Any, dim: int | Sequence[int] | None = None) -> Any:
    if isinstance(dim, (tuple, list)):  # several dims: squeezed one by one, the highest first
        out = input
        for d in sorted({d % max(input.ndim, 1) for d in dim}, reverse=True):
            out = squeeze(out, d) if out.shape[d] == 1 else out
        if out is not input and out.grad_fn is not None:
            out.grad_fn.__class__ = node_class("SqueezeBackward2")  # torch's name for a dims tuple
        return out
    return apply("squeeze", (input,), {"dim": None if dim is None else int(dim)})  # type: ignore[arg-type]


def flip(input: Any, dims: Sequence[int]) -> Any:
    return apply("flip", (input,), {"dims": _ints((dims,))})


def gather(input: Any, dim: int, index: Any) -> Any:
    return _indexed("gather", input, index, {"dim": int(dim)})


def index_select(input: Any, dim: int, index: Any) -> Any:
    if getattr(index, "ndim", 1) > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return _indexed("index_select", input, index, {"dim": int(dim)})


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:
    """torch.scatter_add (ScatterAddBackward0): input with src added at index along dim."""
    _check_index("scatter_add", input, index, {"dim": int(dim)})
    return apply("scatter_add", (input, index, src), {"dim": int(dim)})


def split(tensor: Any, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Pieces of ``split_size`` (the last may be smaller), or of the given sizes, along dim."""
    n = tensor.shape[dim]
    piece = "split" if isinstance(split_size_or_sections, int) else "split_with_sizes"
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise ShapeError("split", f"split_size can only be 0 if dimension size is 0, but got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError("split", f"split_with_sizes expects split_sizes to sum exactly to {n} "
                                      f"(input tensor's size at dimension {dim}), but got split_sizes={sizes}")
    starts = np.cumsum([0] + sizes)
    return tuple(apply("slice", (tensor,), {"dim": dim, "start": int(a), "stop": int(a + s), "step": 1, "piece": piece})
                 for a, s in zip(starts, sizes))


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:
    """torch.chunk: pieces of ceil(n / chunks) along dim (fewer pieces when that divides n)."""
    if chunks <= 0:
        raise ShapeError("chunk", f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input.shape[dim]
    return split(input, max(-(-n // chunks), 1) if n else 1, dim)


class ShapeMethods:
    """Tensor methods of the shape ops (mixed into TensorMath)."""

    __slots__ = ()

    def unsqueeze(self, dim: int) -> Any:
        return unsqueeze(self, dim)

    def squeeze(self, dim: int | None = None) -> Any:
        return squeeze(self, dim)

    def expand(self, *sizes: Any) -> Any:
        return apply("expand", (self,), {"size": _ints(sizes)})

    def expand_as(self, other: Any) -> Any:
        return self.expand(tuple(other.shape))

    def repeat(self, *repeats: Any) -> Any:
        return apply("repeat", (self,), {"repeats": _ints(repeats)})

    def flip(self, *dims: Any, **kw: Any) -> Any:
        return flip(self, _ints(dims or (kw.pop("dims"),)))

    def gather(self, dim: int, index: Any) -> Any:
        return gather(self, dim, index)

    def index_select(self, dim: int, index: Any) -> Any:
        return index_select(self, dim, index)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        return scatter_add(self, dim, index, src)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple:
        return split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        return chunk(self, chunks, dim)

    def masked_fill(self, mask: Any, value: float) -> Any:
        """value where mask (a bool tensor broadcasting to self), else self (MaskedFillBackward0)."""
        if getattr(mask, "_data", None) is None or mask._data.dtype != np.bool_:
            raise DtypeError("masked_fill", "masked_fill only supports boolean masks, but got mask with dtype "
                            f"{getattr(getattr(mask, '_data', None), 'dtype', type(mask).__name__)}")
        if hasattr(value, "_data"):  # a 0-d tensor value (MaskedFillBackward1); its gradient when it needs one
            from .torch_functions_more import masked_fill_tensor

            return masked_fill_tensor(self, mask, value)  # type: ignore[arg-type]
        return apply("masked_fill", (self, mask), {"value": float(value)})

    def contiguous(self, memory_format: Any = None) -> Any:
        """A no-op: crossgrad's tensors are always contiguous (torch returns self too)."""
        return self

    def _index_tensor(self, index: Any) -> Any:
        """self[index] with an int64 tensor along dim 0 (IndexBackward0)."""
        return _indexed("index", self, index, {})
