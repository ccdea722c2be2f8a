"""Masks and creation of issue 11 (part A): comparisons giving bool tensors (no gradient, usable
as ``where`` conditions), ``tril``/``triu`` (recorded: TrilBackward0), ``full_like``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from . import dtypes
from .dispatch import apply
from .functional_elementwise import floating
from .tensor import Tensor

_COMPARE = {"gt": np.greater, "lt": np.less, "ge": np.greater_equal, "le": np.less_equal,
            "eq": np.equal, "ne": np.not_equal}


def _compare(op: str) -> Any:
    ufunc = _COMPARE[op]

    def fn(input: Tensor, other: Any) -> Tensor:
        """A bool tensor, broadcasting; records nothing (a comparison has no gradient)."""
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        return Tensor._make(np.asarray(ufunc(a, getattr(other, "_data", other))))

    fn.__name__ = fn.__qualname__ = op
    return fn


gt, lt, ge, le, eq, ne = (_compare(op) for op in ("gt", "lt", "ge", "le", "eq", "ne"))
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def _triangle(op: str, input: Tensor, diagonal: int) -> Tensor:
    x, attrs = floating(op, input), {"diagonal": int(diagonal)}
    ops.CATALOGUE[op].out_shape([x._data.shape], attrs)  # a 0-d or 1-d input: ShapeError naming op
    return apply(op, (x,), attrs)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle("tril", input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle("triu", input, diagonal)


def full_like(input: Tensor, fill_value: Any, dtype: dtypes.dtype | None = None,
              requires_grad: bool = False) -> Tensor:
    """A new tensor of input's shape (and dtype, unless given) filled with ``fill_value``."""
    np_dtype = dtype.np if dtype is not None else input._data.dtype
    if not isinstance(getattr(fill_value, "_data", fill_value), (bool, int, float, np.number, np.ndarray)):
        raise TypeError(f"full_like(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    out = Tensor._make(np.full(input._data.shape, fill_value).astype(np_dtype))
    return out.requires_grad_() if requires_grad else out


FUNCTIONS = ("gt", "lt", "ge", "le", "eq", "ne", "greater", "less", "greater_equal", "less_equal",
             "not_equal", "tril", "triu", "full_like")


def _install() -> None:
    for name in ("gt", "lt", "ge", "le", "eq", "ne", "greater", "less", "greater_equal", "less_equal",
                 "not_equal", "tril", "triu"):
        setattr(Tensor, name, globals()[name])


_install()
