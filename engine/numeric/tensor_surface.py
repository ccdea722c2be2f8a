"""The everyday Tensor surface: clone, to/device/cpu, all/any, isclose/allclose, float()/int().

One device exists, "cpu", and is reported as such; asking for another one is an error, never a
silent no-op. Installed onto Tensor at import (engine/numeric/__init__.py imports this module).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DeviceError, DtypeError
from . import dtypes
from .autograd import _mode
from .dispatch import apply
from .tensor import Tensor
from .tensor_math import _renamed


class device:
    """``crossgrad.device("cpu")``: the one device there is."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        name = str(type)  # a device prints as "cpu"
        if name.split(":")[0] != "cpu":
            raise DeviceError(f"crossgrad runs on one device, 'cpu'; device {name!r} is not available "
                               "(use 'cpu', or torch itself for accelerators)")
        if isinstance(type, device):
            index = type.index if index is None else index
        elif ":" in name:  # "cpu:0"
            index = int(name.split(":", 1)[1])
        self.type, self.index = "cpu", index

    def __repr__(self) -> str:
        return "device(type='cpu')" if self.index is None else f"device(type='cpu', index={self.index})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (other.type, other.index) == (self.type, self.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def _is_device(arg: Any) -> bool:
    return isinstance(arg, (str, device))


def _target(args: tuple, kwargs: dict) -> dtypes.dtype | None:
    """The dtype ``to(...)`` asks for (None: keep); checks any device named along the way."""
    found: dtypes.dtype | None = kwargs.get("dtype")
    if kwargs.get("device") is not None:
        device(kwargs["device"])
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            found = arg
        elif isinstance(arg, Tensor):
            found = arg.dtype
        elif _is_device(arg):
            device(arg)
        else:
            raise TypeError(f"to() received an invalid argument {arg!r}: expected a dtype, a device or a tensor")
    return found


def to(self: Tensor, *args: Any, copy: bool = False, non_blocking: bool = False, **kwargs: Any) -> Tensor:
    """``x.to(dtype)``, ``x.to("cpu")``, ``x.to(other)``: self when nothing changes, as in torch."""
    target = _target(args, kwargs)
    if target is None or target.np == self._data.dtype:
        return _renamed(clone(self), "ToCopyBackward0") if copy else self
    if self._requires_grad and _mode.enabled and target.is_floating_point and self.dtype.is_floating_point:
        from .dispatch import apply

        return apply("to_dtype", (self,), {"dtype": target.name})  # recorded: ToCopyBackward0
    return Tensor._make(self._data.astype(target.np))  # to int64 / bool: no gradient, as in torch


def clone(self: Tensor) -> Tensor:
    """A copy; recorded (CloneBackward0, an identity in the graph) when it requires grad."""
    if not (self._requires_grad and _mode.enabled):
        return Tensor._make(self._data.copy())
    out = apply("reshape", (self,), {"shape": tuple(self._data.shape)})
    out._data = out._data.copy()
    return _renamed(out, "CloneBackward0")


def _reduce(fn: Any, t: Tensor, dim: Any, keepdim: bool) -> Tensor:
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    return Tensor._make(np.asarray(fn(t._data, axis=axis, keepdims=keepdim and dim is not None)))


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _reduce(np.all, input, dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _reduce(np.any, input, dim, keepdim)


_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other|, elementwise (torch.isclose): both tensors of one dtype."""
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    b = other._data
    if b.dtype != input._data.dtype:
        raise DtypeError("isclose", f"{_NAMES.get(input._data.dtype.name)} did not match {_NAMES.get(b.dtype.name)}")
    return Tensor._make(np.asarray(np.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _scalar(self: Tensor) -> Any:
    if self._data.size != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return self._data.reshape(()).item()


def _index(self: Tensor) -> int:
    if self._data.dtype.kind not in "iu" or self._data.size != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(self._data.reshape(()))


_METHODS = {
    "to": to, "clone": clone, "all": all, "any": any, "isclose": isclose, "allclose": allclose,
    "cpu": lambda self: self, "bool": lambda self: self.to(dtypes.bool_),
    "__float__": lambda self: float(_scalar(self)), "__int__": lambda self: int(_scalar(self)), "__index__": _index,
    "device": property(lambda self: CPU), "is_cuda": property(lambda self: False),
    "is_cpu": property(lambda self: True),
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


def _cuda(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    raise DeviceError("crossgrad runs on one device, 'cpu'; .cuda() is not available")


Tensor.cuda = _cuda  # type: ignore[attr-defined]


class _NoAccelerator:
    """``crossgrad.cuda`` / ``crossgrad.accelerator``: nothing but the CPU, honestly reported."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0


cuda = _NoAccelerator()
accelerator = _NoAccelerator()
