"""The user-facing reductions of issue 11 (part A): ``crossgrad.logsumexp``, ``x.max(dim)``
returning ``(values, indices)``, ``x.var(dim, correction=...)``... each one catalogue op, with
PyTorch's signature; indices (argmax/argmin) are int64 tensors that record nothing."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .. import shapes as S
from ..errors import DtypeError
from .dispatch import apply
from .functional_elementwise import floating
from .functional_elementwise import maximum_of as _maximum_of
from .tensor import Tensor

max_result = namedtuple("max", ["values", "indices"])  # type: ignore[name-match]  # torch.return_types.max
min_result = namedtuple("min", ["values", "indices"])  # type: ignore[name-match]  # torch.return_types.min


def _dims(dim: Any) -> Any:
    """A dims argument as the catalogue takes it: None (and torch's empty tuple) is every dim."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return None
    return dim if isinstance(dim, int) else tuple(int(d) for d in dim)


def _reduce(op: str, input: Any, **attrs: Any) -> Tensor:
    x = floating(op, input)
    if attrs.get("dim") is not None:
        dims = attrs["dim"]
        S.norm_dims(op, dims, x.ndim)  # a bad dim raises ShapeError naming the op
    return apply(op, (x,), attrs)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return _reduce("logsumexp", input, dim=_dims(dim), keepdim=bool(keepdim))


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _reduce("amax", input, dim=_dims(dim), keepdim=bool(keepdim))


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _reduce("amin", input, dim=_dims(dim), keepdim=bool(keepdim))


def _indices(op: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """argmax/argmin: the first extreme's index, int64, never recorded (no gradient)."""
    data = x._data
    if data.dtype == np.bool_:
        raise DtypeError(op, f"input must be a numeric tensor, got {x.dtype}")
    fn = np.argmax if op == "argmax" else np.argmin
    if dim is None:
        out = np.asarray(fn(data), np.int64)
        return Tensor._make(out.reshape((1,) * data.ndim) if keepdim else out)
    axis = S.norm_dim(op, dim, data.ndim)
    out = fn(data, axis=axis, keepdims=keepdim) if data.ndim else np.zeros((), np.int64)
    return Tensor._make(np.asarray(out, np.int64))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _indices("argmax", input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _indices("argmin", input, dim, keepdim)


def _extreme(op: str, input: Tensor, dim: Any, keepdim: bool, other: Any) -> Any:
    if isinstance(dim, Tensor) or other is not None:  # torch.max(a, b) is maximum(a, b)
        return _maximum_of(op, input, other if other is not None else dim)
    if dim is None:
        return _reduce(op, input, dim=None, keepdim=False)
    values = _reduce(op, input, dim=int(dim), keepdim=bool(keepdim))
    result = max_result if op == "max" else min_result
    return result(values, _indices("argmax" if op == "max" else "argmin", input, int(dim), bool(keepdim)))


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """max() of every element; max(dim) as (values, indices), the gradient to that index only."""
    return _extreme("max", input, dim, keepdim, other)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    return _extreme("min", input, dim, keepdim, other)


def _correction(unbiased: bool | None, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise ValueError("var/std: pass only one of unbiased and correction")
    if unbiased is not None:
        return 1.0 if unbiased else 0.0
    return 1.0 if correction is None else float(correction)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """sum((x - mean)^2) / (N - correction); correction 1 (Bessel) by default, as torch."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):  # var(x, (0, 1))
        dim, unbiased = unbiased, None
    return _reduce("var", input, dim=_dims(dim), correction=_correction(unbiased, correction),
                   keepdim=bool(keepdim))


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        dim, unbiased = unbiased, None
    return _reduce("std", input, dim=_dims(dim), correction=_correction(unbiased, correction),
                   keepdim=bool(keepdim))


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector norm over dim (every element by default): p=2 ('fro') or p=1."""
    order = 2.0 if p in ("fro", None) else p
    if order not in (1, 2):
        raise DtypeError("norm", f"p={p!r} is not supported (p=1, p=2 and 'fro' are)")
    return _reduce("norm", input, p=float(order), dim=_dims(dim), keepdim=bool(keepdim))


def cumsum(input: Tensor, dim: int) -> Tensor:
    x = floating("cumsum", input)
    S.norm_dim("cumsum", dim, x.ndim)
    return apply("cumsum", (x,), {"dim": int(dim)})


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _reduce("prod", input, dim=None if dim is None else int(dim), keepdim=bool(keepdim))


FUNCTIONS = ("logsumexp", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "norm",
             "cumsum", "prod")


def _install() -> None:
    """Tensor methods as torch has them (x.max(1).indices, x.var(correction=0), x.norm(p=1))."""
    for name in FUNCTIONS:
        setattr(Tensor, name, globals()[name])


_install()
