"""More torch function and method forms found missing by the second parity sweep, each composed
of catalogue ops: ``select`` (SelectBackward0), ``masked_select`` (MaskedSelectBackward0, the mask
and input broadcast), ``equal``, and ``clamp`` with tensor bounds (torch's ClampBackward0 rule:
the input's gradient where min <= x <= max, min's where x < min, max's where x > max)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DtypeError
from .tensor import Tensor
from .tensor_math import _renamed


def select(input: Tensor, dim: int, index: int) -> Tensor:
    dim = int(dim)
    return input[(slice(None),) * (dim % max(input.ndim, 1)) + (int(index),)]


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise DtypeError("masked_select", "masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    x = input if tuple(input.shape) == shape else input.expand(*shape)
    m = mask if tuple(mask.shape) == shape else Tensor._make(np.broadcast_to(mask._data, shape).copy())
    return _renamed(x[m], "MaskedSelectBackward0")


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and elements (torch.equal)."""
    return tuple(input.shape) == tuple(other.shape) and bool(np.array_equal(input._data, other._data))


def needs_tensor_clamp(*bounds: Any) -> bool:
    """A bound that is a tensor of several elements or requires grad (not a plain number)."""
    return any(isinstance(b, Tensor) and (b.numel() != 1 or b.requires_grad) for b in bounds)


def clamp_tensors(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """min(max(x, min), max) with torch's clamp_backward_min_max: the input's gradient where
    min <= x <= max, min's where x < min < max, max's where x > max or max < min."""
    from .functional_elementwise import where

    if min is None or max is None:
        out = where(input < min, min, input) if max is None else where(input > max, max, input)
        return _renamed(out, "ClampBackward0")
    low = min.detach() if isinstance(min, Tensor) else min
    at_min = where(_as_mask(low == max), low, min)  # min == max: torch sends min nothing
    inner = where(input < min, at_min, where(input > max, max, input))
    return _renamed(where(_as_mask(max < min), max, inner), "ClampBackward0")


def masked_fill_tensor(input: Tensor, mask: Tensor, value: Tensor) -> Tensor:
    """masked_fill with a 0-d tensor value: the value's gradient is the sum of the masked gradient."""
    from .dispatch import apply
    from .functional_elementwise import where

    if value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    if value.requires_grad:
        v = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
        out = where(mask, v, input)
        if tuple(out.shape) != tuple(input.shape):
            raise RuntimeError(f"masked_fill: the mask of shape {list(mask.shape)} does not broadcast to the "
                               f"input's shape {list(input.shape)}")
    else:
        out = apply("masked_fill", (input, mask), {"value": float(value._data)})
    return _renamed(out, "MaskedFillBackward1")


def set_default_dtype(d: Any) -> None:
    """The float dtype of Python floats, factories and new layers (float32 or float64)."""
    from . import dtypes

    if d not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"only floating-point types are supported as the default type (crossgrad's are float32 and "
                        f"float64), got {d}")
    dtypes.DEFAULT_FLOAT = d


def tensor_type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """x.type(): torch's legacy type name ('torch.FloatTensor'); x.type(dtype): x.to(dtype)."""
    if dtype is None:
        names = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}
        return f"torch.{names[self.dtype.name]}Tensor"
    return self.to(dtype)


def _as_mask(b: Any) -> Tensor:
    return b if isinstance(b, Tensor) else Tensor._make(np.asarray(b))


def install() -> None:
    Tensor.select = select  # type: ignore[attr-defined]
    Tensor.masked_select = masked_select  # type: ignore[attr-defined]
    Tensor.equal = equal  # type: ignore[attr-defined]
    Tensor.type = tensor_type  # type: ignore[attr-defined]


__all__ = ["equal", "masked_select", "select", "set_default_dtype"]
