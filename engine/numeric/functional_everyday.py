"""The facade of the everyday-ops sweep's catalogue ops: torch.cumprod / Tensor.cumprod,
torch.atan2 (arctan2) / Tensor.atan2, F.hardswish / F.hardsigmoid / F.mish and their modules
nn.Hardswish / nn.Hardsigmoid / nn.Mish."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .dispatch import apply
from .functional_elementwise import floating
from .nn import Module
from .tensor import Tensor


def cumprod(input: Tensor, dim: int, *, dtype: dtypes.dtype | None = None, out: Any = None) -> Tensor:
    """Running product along dim (an integer or bool input stays integral, unrecorded, as torch's int64)."""
    if out is not None:
        raise TypeError("cumprod(): out= is not supported")
    x = input if dtype is None else input.to(dtype)
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    if x._data.dtype.kind != "f":
        data = x._data.astype(np.int64)
        return Tensor._make(np.cumprod(data, axis=dim % n) if data.ndim else data.copy())
    return apply("cumprod", (x,), {"dim": dim})


def atan2(input: Tensor, other: Any) -> Tensor:
    """atan2(input, other) elementwise, broadcasting; integers promote to float32 as torch's."""
    a = input if isinstance(input, Tensor) else Tensor(input)
    if a._data.dtype.kind != "f" and getattr(getattr(other, "_data", None), "dtype", np.dtype(float)).kind != "f":
        a = a.to(dtypes.float32)
        other = other.to(dtypes.float32) if isinstance(other, Tensor) else other
    return a._binary("atan2", other)


def _activation(op: str) -> Any:
    def fn(input: Tensor, inplace: bool = False) -> Tensor:
        return apply(op, (floating(op, input),), {})
    fn.__name__ = op
    return fn


hardswish, hardsigmoid, mish = (_activation(op) for op in ("hardswish", "hardsigmoid", "mish"))


def _module(name: str, fn: Any) -> type:
    def __init__(self: Module, inplace: bool = False) -> None:
        Module.__init__(self)
        self.inplace = inplace

    def forward(self: Module, input: Tensor) -> Tensor:
        return fn(input)

    def extra_repr(self: Module) -> str:
        return "inplace=True" if getattr(self, "inplace", False) else ""

    return type(name, (Module,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr,
                                  "__module__": __name__})


Hardswish = _module("Hardswish", hardswish)
Hardsigmoid = _module("Hardsigmoid", hardsigmoid)


class Mish(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return mish(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


FUNCTIONS = ("cumprod", "atan2", "arctan2")
F_FUNCTIONS = ("hardswish", "hardsigmoid", "mish")
MODULES = ("Hardswish", "Hardsigmoid", "Mish")
arctan2 = atan2


def install() -> None:
    Tensor.cumprod = cumprod  # type: ignore[attr-defined]
    Tensor.atan2 = atan2  # type: ignore[attr-defined]
    Tensor.arctan2 = atan2  # type: ignore[attr-defined]
