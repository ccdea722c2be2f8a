"""The user-facing elementwise ops of issue 11 (part A): ``crossgrad.sin``, ``F.gelu``,
``Tensor.clamp``, ``torch.where``... each a call to one catalogue op, with PyTorch's signature."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DtypeError, KernelDtypeError
from . import torch_functions_more
from .dispatch import apply
from .tensor import Tensor
from .tensor_math import wrap


def floating(op: str, t: Any, name: str = "input") -> Tensor:
    """``t`` as a Tensor, refusing a bool or integer one where the op needs floats."""
    if not isinstance(t, Tensor):
        t = Tensor(t)
    if t._data.dtype.kind != "f":
        raise KernelDtypeError(op, f"{name} must be a floating point tensor, got {t.dtype} "
                                   f"(torch: not implemented for '{t.dtype.name}')")
    return t


def _unary(op: str) -> Any:
    def fn(input: Tensor) -> Tensor:
        return apply(op, (floating(op, input),), {})

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"torch.{op}(input)"
    return fn


sin, cos, erf, log1p, expm1 = (_unary(n) for n in ("sin", "cos", "erf", "log1p", "expm1"))
reciprocal, rsqrt, square = (_unary(n) for n in ("reciprocal", "rsqrt", "square"))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return apply("silu", (floating("silu", input),), {})


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return apply("gelu", (floating("gelu", input),), {"approximate": approximate})


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return apply("leaky_relu", (floating("leaky_relu", input),), {"negative_slope": float(negative_slope)})


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return apply("elu", (floating("elu", input),), {"alpha": float(alpha)})


def _bound(op: str, value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise DtypeError(op, f"{name} must be a number or a one-element tensor (tensor bounds are not supported)")
        value = value.item()
    return float(value)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """min(max(input, min), max); the gradient passes at the bounds (as PyTorch)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if torch_functions_more.needs_tensor_clamp(min, max):
        return torch_functions_more.clamp_tensors(input, min, max)
    attrs = {"min": _bound("clamp", min, "min"), "max": _bound("clamp", max, "max")}
    return apply("clamp", (floating("clamp", input),), attrs)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(input, min_val, max_val) whose gradient is 0 at the bounds (as PyTorch)."""
    attrs = {"min_val": float(min_val), "max_val": float(max_val)}
    return apply("hardtanh", (floating("hardtanh", input),), attrs)


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """input where condition, else other; condition a bool tensor, all three broadcast."""
    if not isinstance(condition, Tensor):
        condition = Tensor(np.asarray(condition))
    if condition._data.dtype != np.bool_:
        raise DtypeError("where", f"condition must be a bool tensor, got {condition.dtype}")
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    if like is None:
        raise DtypeError("where", "input or other must be a tensor")
    a = floating("where", wrap(input, like), "input")
    b = floating("where", wrap(other, a), "other")
    if a._data.dtype != b._data.dtype:
        dtype = np.promote_types(a._data.dtype, b._data.dtype)
        a, b = (t if t._data.dtype == dtype else t.to(_dtype_of(dtype)) for t in (a, b))
    return apply("where", (condition, a, b), {})


def _dtype_of(np_dtype: Any) -> Any:
    from .dtypes import of_array

    return of_array(np.empty(0, np_dtype))


FUNCTIONS = ("sin", "cos", "erf", "log1p", "expm1", "reciprocal", "rsqrt", "square", "silu", "gelu",
             "leaky_relu", "elu", "clamp", "hardtanh", "where")
_METHODS = ("sin", "cos", "erf", "log1p", "expm1", "reciprocal", "rsqrt", "square", "clamp")


def _install() -> None:
    """Tensor methods as torch has them: x.sin(), x.clamp(min, max), x.clip, x.where(cond, y)."""
    for name in _METHODS:
        setattr(Tensor, name, globals()[name])
    Tensor.clip = clamp  # type: ignore[attr-defined]
    Tensor.where = lambda self, condition, other: where(condition, self, other)  # type: ignore[attr-defined]


_install()


def maximum_of(op: str, input: Any, other: Any) -> Tensor:
    """torch.max(a, b) / torch.min(a, b): the elementwise maximum / minimum."""
    a = floating(op, input)
    b = floating(op, wrap(other, a), "other")
    return apply("maximum" if op == "max" else "minimum", (a, b), {})
