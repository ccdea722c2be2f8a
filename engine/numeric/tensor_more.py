"""torch functions and Tensor methods tutorials reach for that crossgrad lacked, each composed of
catalogue ops (so every witness differentiates them) or plain data work where torch's gradient is
zero or absent: sort/topk/argsort (values gathered at the indices: SortBackward0/TopkBackward0),
multinomial, isnan/isinf/isfinite, sign/round/floor/ceil/trunc (gradient 0, as torch's), log2/log10,
roll, diagonal/diag/trace, dot, broadcast_to, movedim, unflatten, tile, hstack/vstack, lerp,
nan_to_num, finfo. Ties in sort/topk take numpy's stable order (torch's CPU order may differ
there; the values and their gradients never do)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import shape_api
from . import torch_dists as dists
from .creation import _engine
from .functional_reductions import ValuesIndices
from .tensor import Tensor
from .tensor_math import _renamed


class sort_values(ValuesIndices):  # noqa: N801 (torch.return_types.sort's name)
    __slots__ = ()


class topk_values(ValuesIndices):  # noqa: N801
    __slots__ = ()


sort_values.__name__ = sort_values.__qualname__ = "sort"
topk_values.__name__ = topk_values.__qualname__ = "topk"


def _order(x: Tensor, dim: int, descending: bool) -> np.ndarray:
    data = x._data
    return np.argsort(-data if descending and data.dtype != np.bool_ else data, axis=dim, kind="stable")


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    order = _order(input, dim, descending)
    return Tensor._make(order[..., ::-1].copy() if descending and input._data.dtype == np.bool_ else order)


def _picked(input: Tensor, dim: int, index: np.ndarray, name: str) -> Tensor:
    index = index.astype(np.int64)
    if not input.requires_grad:
        return Tensor._make(np.take_along_axis(input._data, index, axis=dim))
    return _renamed(shape_api.gather(input, dim, Tensor._make(index)), name)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> sort_values:
    index = argsort(input, dim, descending)._data
    return sort_values(_picked(input, dim, index, "SortBackward0"), Tensor._make(index))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> topk_values:  # noqa: A002
    n = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for a dim of size {n}")
    index = np.take(_order(input, dim, largest), np.arange(k), axis=dim)
    return topk_values(_picked(input, dim, index, "TopkBackward0"), Tensor._make(index))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """Indices drawn with probabilities proportional to each row, torch's draws (torch_dists.multinomial)."""
    probs = np.atleast_2d(np.asarray(input._data))
    if probs.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.name}")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    out = dists.multinomial(_engine(generator), probs, int(num_samples), replacement)
    return Tensor._make(out if input.ndim > 1 else out[0])


def _predicate(fn: Any) -> Any:
    return lambda input: Tensor._make(fn(input._data))


isnan, isinf, isfinite = _predicate(np.isnan), _predicate(np.isinf), _predicate(np.isfinite)


def _flat_step(fn: Any, name: str) -> Any:
    """A piecewise-constant op: torch's gradient is 0 (not undefined), so a tensor that requires
    grad gives x * 0 + fn(x) — recorded, zero gradient — shown as torch's grad_fn."""
    def op(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        value = fn(input._data, *args, **kwargs).astype(input._data.dtype, copy=False)
        if not input.requires_grad:
            return Tensor._make(value)
        return _renamed(input * 0.0 + Tensor._make(value), name)
    return op


sign = _flat_step(np.sign, "SignBackward0")
floor = _flat_step(np.floor, "FloorBackward0")
ceil = _flat_step(np.ceil, "CeilBackward0")
trunc = _flat_step(np.trunc, "TruncBackward0")


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    return _flat_step(lambda a: np.round(a, decimals), "RoundBackward0" if not decimals else "RoundBackward1")(input)


def log2(input: Tensor) -> Tensor:
    return _renamed(input.log() * (1.0 / np.log(2.0)), "Log2Backward0")


def log10(input: Tensor) -> Tensor:
    return _renamed(input.log() * (1.0 / np.log(10.0)), "Log10Backward0")


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    if dims is None:
        return _renamed(roll(input.reshape(-1), shifts, 0).reshape(*input.shape), "RollBackward0")
    shifts_ = [int(v) for v in np.atleast_1d(np.asarray(shifts))]
    dims_ = [int(v) for v in np.atleast_1d(np.asarray(dims))]
    if len(shifts_) != len(dims_):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_)}, dims:{len(dims_)}")
    out = input
    for s, d in zip(shifts_, dims_):
        n = input.shape[d]
        out = out.index_select(d, Tensor._make(np.roll(np.arange(n), s).astype(np.int64)))
    return _renamed(out, "RollBackward0")


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The (dim1, dim2) diagonal as the last dim, torch's layout: a permute, a reshape, an index_select."""
    nd = input.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    rest = [d for d in range(nd) if d not in (d1, d2)]
    n1, n2 = input.shape[d1], input.shape[d2]
    rows = np.arange(max(0, -offset), min(n1, n2 - offset)) if min(n1, n2 - offset) > max(0, -offset) else \
        np.zeros(0, np.int64)
    flat = (rows * n2 + rows + offset).astype(np.int64)
    moved = input.permute(*rest, d1, d2).reshape(*[input.shape[d] for d in rest], n1 * n2)
    return _renamed(moved.index_select(-1, Tensor._make(flat)), "DiagonalBackward0")


def trace(input: Tensor) -> Tensor:
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _renamed(diagonal(input).sum(), "TraceBackward0")


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002 (torch's name)
    """A vector's diagonal matrix (offset ``diagonal``), or a matrix's diagonal."""
    if input.ndim == 2:
        return _renamed(globals()["diagonal"](input, diagonal), "DiagonalBackward0_copy")
    if input.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.ndim}D")
    n, k = input.shape[0], abs(diagonal)
    m = n + k
    index = np.full((m, m), n, np.int64)  # n: the appended zero
    rows = np.arange(n) + (k if diagonal < 0 else 0)
    index[rows, rows + diagonal] = np.arange(n)
    padded = shape_api.cat([input, Tensor._make(np.zeros(1, input._data.dtype))], 0)
    return _renamed(padded[Tensor._make(index)], "DiagEmbedBackward0")


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        a, b = input.shape[0], other.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a}] and src [{b}] to have the same number "
                           f"of elements, but got {a} and {b} elements respectively")
    return _renamed((input * other).sum(), "DotBackward0")


def broadcast_to(input: Tensor, *size: Any) -> Tensor:
    return input.expand(*(size[0] if len(size) == 1 and not isinstance(size[0], int) else size))


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    nd = input.ndim
    src = [int(s) % nd for s in ([source] if isinstance(source, int) else source)]
    dst = [int(d) % nd for d in ([destination] if isinstance(destination, int) else destination)]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same "
                           f"number of dims as destination ({dst} dims)")
    order = [d for d in range(nd) if d not in src]
    for d, s_ in sorted(zip(dst, src)):
        order.insert(d, s_)
    return input.permute(*order)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = dim % input.ndim
    return input.reshape(*input.shape[:d], *sizes, *input.shape[d + 1:])


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    return shape_api.cat(list(tensors), 0 if all(t.ndim == 1 for t in tensors) else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return shape_api.cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return _renamed(input + weight * (end - input), "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """nan, +inf, -inf replaced; the gradient passes where the input is finite (torch's rule)."""
    from .functional_elementwise import where

    value = np.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf)
    if not input.requires_grad:
        return Tensor._make(value)
    finite = Tensor._make(np.isfinite(input._data))
    return _renamed(where(finite, input, Tensor._make(value)), "NanToNumBackward0")


class finfo:  # noqa: N801 (torch.finfo)
    """torch.finfo(dtype): bits, eps, max, min, tiny (smallest_normal), resolution of a float dtype."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002
        from . import dtypes

        info = np.finfo((type or dtypes.DEFAULT_FLOAT).np)
        self.bits, self.eps, self.max, self.min = info.bits, float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)
        self.dtype = str(info.dtype)


FUNCTIONS = ["argsort", "broadcast_to", "ceil", "diag", "diagonal", "dot", "finfo", "floor", "hstack", "isfinite",
             "isinf", "isnan", "lerp", "log10", "log2", "movedim", "multinomial", "nan_to_num", "roll", "round",
             "sign", "sort", "tile", "topk", "trace", "trunc", "unflatten", "vstack"]
METHODS = ["argsort", "broadcast_to", "ceil", "diagonal", "dot", "floor", "isfinite", "isinf", "isnan", "lerp",
           "log10", "log2", "movedim", "nan_to_num", "roll", "round", "sign", "sort", "tile", "topk", "trace", "trunc",
           "unflatten", "multinomial", "diag"]


def install() -> None:
    from . import torch_functions

    for name in METHODS:
        setattr(Tensor, name, globals()[name])
    Tensor.moveaxis = movedim  # type: ignore[attr-defined]
    Tensor.outer = torch_functions.outer  # type: ignore[attr-defined]
    Tensor.nonzero = torch_functions.nonzero  # type: ignore[attr-defined]
