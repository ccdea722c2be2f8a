"""The reductions of engine/ops_reductions.py with PyTorch's signatures (``torch.logsumexp``,
``x.max(dim)`` -> (values, indices), ``x.var(dim, correction=1)``, ...) and the Tensor methods."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..errors import DtypeError
from . import dtypes
from .dispatch import apply
from .tensor import Tensor

Dims = int | tuple[int, ...] | list[int] | None


class ValuesIndices(NamedTuple):
    """What torch.max(input, dim) returns: ``.values`` (differentiable) and ``.indices`` (int64)."""

    values: Tensor
    indices: Tensor


class max_values(ValuesIndices):  # noqa: N801 (torch.return_types.max's name)
    __slots__ = ()


class min_values(ValuesIndices):  # noqa: N801
    __slots__ = ()


max_values.__name__ = max_values.__qualname__ = "max"
min_values.__name__ = min_values.__qualname__ = "min"
_RESULT = {"max": max_values, "min": min_values}


def _dims(dim: Dims) -> tuple[int, ...] | None:
    if dim is None:
        return None
    return (dim,) if isinstance(dim, int) else tuple(dim)


def logsumexp(input: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:
    if input._data.dtype.kind in "biu":  # torch: an integral input gives the default float dtype
        input = Tensor._make(input._data.astype(dtypes.DEFAULT_FLOAT.np))
    return apply("logsumexp", (input,), {"dim": _dims(dim), "keepdim": keepdim})


def amax(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    return apply("amax", (input,), {"dim": _dims(dim) or None, "keepdim": keepdim})


def amin(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    return apply("amin", (input,), {"dim": _dims(dim) or None, "keepdim": keepdim})


def _extreme(op: str, pick: Any, input: Tensor, dim: int | None, keepdim: bool) -> Any:
    if dim is None:
        return apply(f"{op}_all", (input,), {})
    values = apply(f"{op}_dim", (input,), {"dim": dim, "keepdim": keepdim})
    if not input.ndim:
        return _RESULT[op](values, Tensor._make(np.zeros((), np.int64)))
    axis = dim % input.ndim
    index = np.asarray(pick(input._data, axis=axis), np.int64)
    if keepdim:
        index = np.expand_dims(index, axis)
    return _RESULT[op](values, Tensor._make(index))


def max(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """max() of all elements (ties share the gradient), or (values, indices) along ``dim``."""
    return _extreme("max", np.argmax, input, dim, keepdim)


def min(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _extreme("min", np.argmin, input, dim, keepdim)


def _correction(correction: float | None, unbiased: bool | None) -> float:
    if correction is not None:
        return float(correction)
    return 0.0 if unbiased is False else 1.0


def var(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    _floats_only("var", input, "std and var only support floating point and complex dtypes")
    return apply("var", (input,), {"dim": _dims(dim), "correction": _correction(correction, unbiased),
                                   "keepdim": keepdim})


def std(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    _floats_only("std", input, "std and var only support floating point and complex dtypes")
    return apply("std", (input,), {"dim": _dims(dim), "correction": _correction(correction, unbiased),
                                   "keepdim": keepdim})


def _floats_only(op: str, input: Any, message: str) -> None:
    """torch's refusal of an integer or bool tensor where the reduction needs floats."""
    if isinstance(input, Tensor) and input._data.dtype.kind != "f":
        raise DtypeError(op, message)


def norm(input: Tensor, p: float | str = 2, dim: Dims = None, keepdim: bool = False) -> Tensor:
    if p == "fro":
        p = 2
    if p not in (1, 2):
        raise NotImplementedError(f"norm with p={p!r}: the catalogue has p=1 and p=2")
    _floats_only("norm", input, f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                                f"{getattr(input, 'dtype', None)}")
    return apply("norm", (input,), {"p": float(p), "dim": _dims(dim), "keepdim": keepdim})


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return apply("prod", (input,), {"dim": _dims(dim), "keepdim": keepdim})


def cumsum(input: Tensor, dim: int) -> Tensor:
    return apply("cumsum", (input,), {"dim": dim})


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    out = np.argmin(input._data, axis=dim, keepdims=keepdim)
    return Tensor._make(np.asarray(out, dtype=np.int64))


METHODS: dict[str, Any] = {
    "logsumexp": logsumexp, "amax": amax, "amin": amin, "max": max, "min": min, "var": var, "std": std,
    "norm": norm, "prod": prod, "cumsum": cumsum, "argmin": argmin,
}
for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
