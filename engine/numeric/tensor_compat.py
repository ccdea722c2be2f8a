"""More of torch's Tensor surface, each a call to an existing catalogue op or plain data work on
tensors that need no gradient: ``x.add(y, alpha=)``, ``x.div(y, rounding_mode=)``, in-place
``div_``/``masked_fill_``/``+=``, ``view_as``, ``unbind``, ``new_zeros``, integer inputs promoted
to the default float by the float-only elementwise ops (``torch.exp(int_tensor)`` is float32), and
``sum``/``mean`` with ``dtype=``. Installed onto Tensor at import (crossgrad's facade imports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import KernelDtypeError
from . import dtypes
from . import functional as F
from . import functional_elementwise as E
from . import functional_masks as M
from . import functional_reductions as R
from .autograd import _mode
from .creation import _normal, _uniform
from .dispatch import apply
from .shape_api import split
from .tensor import Tensor
from .tensor_math import TensorMath, _renamed, wrap

_SUM, _MEAN = TensorMath.sum, TensorMath.mean
_CLONE = Tensor.clone  # type: ignore[attr-defined]  # installed by tensor_surface.py


def as_float(t: Any) -> Any:
    """A bool/int tensor as the default float dtype (torch's unary float ops promote them)."""
    if isinstance(t, Tensor) and t._data.dtype.kind in "biu":
        return Tensor._make(t._data.astype(dtypes.DEFAULT_FLOAT.np))
    return t


def _reduce_dims(dim: Any) -> Any:
    return None if isinstance(dim, (list, tuple)) and not dim else dim


def _cast_for(self: Tensor, dtype: dtypes.dtype | None) -> Tensor:
    return self if dtype is None else self.to(dtype)


_NO_DIM: Any = object()  # sum()/mean() called without dim: torch's first overload (SumBackward0)


def _dim_overload(out: Tensor, dim: Any, name: str) -> Tensor:
    """A dim given at all (even None or ()) is torch's dim overload: SumBackward1 / MeanBackward1."""
    if dim is not _NO_DIM and out.grad_fn is not None and type(out.grad_fn).__name__ == f"{name}0":
        return _renamed(out, f"{name}1")
    return out


def sum(self: Tensor, dim: Any = _NO_DIM, keepdim: bool = False, *, dtype: dtypes.dtype | None = None) -> Tensor:  # noqa: A001
    """x.sum(dim, keepdim, dtype=): bool and int sums are int64, as torch's."""
    x = _cast_for(self, dtype)
    if x._data.dtype.kind in "bi" and x._data.dtype != np.int64:
        x = Tensor._make(x._data.astype(np.int64))
    out = _SUM(x, _reduce_dims(None if dim is _NO_DIM else dim), keepdim)
    return _dim_overload(out, dim, "SumBackward")


def mean(self: Tensor, dim: Any = _NO_DIM, keepdim: bool = False, *, dtype: dtypes.dtype | None = None) -> Tensor:
    """x.mean(): torch refuses integer and bool inputs unless a float dtype= is given."""
    x = _cast_for(self, dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                           f"point or complex dtype. Got: {x.dtype.name}")
    return _dim_overload(_MEAN(x, _reduce_dims(None if dim is _NO_DIM else dim), keepdim), dim, "MeanBackward")


def _float_unary(op: str) -> Any:
    def method(self: Tensor) -> Tensor:
        return apply(op, (as_float(self),), {})

    method.__name__ = method.__qualname__ = op
    return method


def square(self: Tensor) -> Tensor:
    """x * x; an integer tensor stays integer, as torch's square (pow 2) does."""
    if self._data.dtype.kind in "biu":
        return Tensor._make(np.square(self._data.astype(np.int64)))
    return E.square(self)


def clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Integer tensors clamp as data (int64; float bounds promote to the default float)."""
    if self._data.dtype.kind in "biu" and not (min is None and max is None):
        bounds = [getattr(b, "_data", b) for b in (min, max)]
        if any(isinstance(b, float) for b in bounds):
            return clamp(as_float(self), min, max)
        return Tensor._make(np.clip(self._data, bounds[0], bounds[1]).astype(np.int64))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return E.clamp(self, min, max)


def _arith(op: str, self: Any, other: Any) -> Tensor:
    return self._binary(op, other) if isinstance(self, Tensor) else wrap(other, Tensor(self))._rbinary(op, self)


def add(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return self + (other if alpha == 1 else other * alpha)


def sub(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return self - (other if alpha == 1 else other * alpha)


def mul(self: Tensor, other: Any) -> Tensor:
    return self * other


def div(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """x / y; rounding_mode 'trunc' or 'floor' on values that need no gradient (torch has none)."""
    if rounding_mode is None:
        return self / other
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"'{rounding_mode}'")
    return _rounded_div(self, other, rounding_mode)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    ta = a if isinstance(a, Tensor) else wrap(a, b)
    tb = b if isinstance(b, Tensor) else wrap(b, ta)
    if _mode.enabled and (ta._requires_grad or tb._requires_grad):
        raise RuntimeError(f"the derivative for 'div' with rounding_mode='{mode}' is not implemented "
                           "in crossgrad (it is zero almost everywhere); detach the operands")
    x, y = ta._data, tb._data
    ints = x.dtype.kind in "biu" and y.dtype.kind in "biu"
    if ints:
        q = np.floor_divide(x, y) if mode == "floor" else np.trunc(np.true_divide(x, y))
        return Tensor._make(np.asarray(q).astype(np.int64))
    out = (ta / tb)._data
    return Tensor._make(np.asarray(np.floor(out) if mode == "floor" else np.trunc(out)))


def _inplace_binary(op: str) -> Any:
    def method(self: Tensor, other: Any) -> Tensor:
        """In place where torch allows it (not on a leaf that requires grad); a recorded tensor
        gets the out-of-place result (crossgrad does not record in-place ops)."""
        if _mode.enabled and self._requires_grad and self.grad_fn is None:
            self._check_inplace()  # torch's leaf error
        result = getattr(self, f"__{op}__")(other)
        if _mode.enabled and result._requires_grad:
            from .inplace_forms import commit, part_of_another

            # self takes the result as torch's (aliases see it); a slice of another tensor keeps the
            # older rebinding of the name only
            return result if part_of_another(self._data) else commit(f"__i{op}__", self, result)
        return self._inplace_op(result)

    method.__name__ = f"__i{op}__"
    return method


def div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    return self._inplace_op(div(self, other, rounding_mode=rounding_mode))


def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    return self._inplace(self.masked_fill(mask, value))


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return self._inplace(clamp(self, min, max))


def floordiv(self: Any, other: Any) -> Tensor:
    return _rounded_div(self, other, "floor")


def rfloordiv(self: Tensor, other: Any) -> Tensor:
    return _rounded_div(other, self, "floor")


def unbind(self: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, each without that dim (torch.unbind; shown as UnbindBackward0)."""
    return tuple(_renamed(piece.squeeze(dim), "UnbindBackward0") for piece in split(self, 1, dim))


def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(self, diagonal, np.tril, M.tril)


def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(self, diagonal, np.triu, M.triu)


def _triangle(x: Tensor, diagonal: int, data: Any, op: Any) -> Tensor:
    """Integer and bool tensors keep their dtype (plain data; they never require grad)."""
    if isinstance(x, Tensor) and x._data.dtype.kind in "biu" and x.ndim >= 2:
        return Tensor._make(data(x._data, int(diagonal)))
    return op(x, diagonal)


def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    n = self.shape[dim]
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return apply("slice", (self,), {"dim": dim, "start": start, "stop": start + length, "step": 1})


def _new(fill: Any) -> Any:
    def method(self: Tensor, *size: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False,
               **kwargs: Any) -> Tensor:
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
        arr = fill(shape, (dtype.np if dtype else self._data.dtype))
        out = Tensor._make(arr)
        return out.requires_grad_() if requires_grad else out

    return method


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: dtypes.dtype | None = None,
             requires_grad: bool = False) -> Tensor:
    out = Tensor._make(np.full(tuple(size), fill_value, (dtype.np if dtype else self._data.dtype)))
    return out.requires_grad_() if requires_grad else out


def new_tensor(self: Tensor, data: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.array(getattr(data, "_data", data)), dtype=dtype or self.dtype, requires_grad=requires_grad)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return self.to(other.dtype)


def softmax(self: Tensor, dim: int | None = None, dtype: dtypes.dtype | None = None, **kw: Any) -> Tensor:
    """softmax(dim, dtype=); F.softmax without dim picks torch's legacy implicit dim."""
    return apply("softmax", (_soft_input("softmax", self, dtype),), {"dim": _soft_dim(self, dim, kw)})


def log_softmax(self: Tensor, dim: int | None = None, dtype: dtypes.dtype | None = None, **kw: Any) -> Tensor:
    return apply("log_softmax", (_soft_input("log_softmax", self, dtype),), {"dim": _soft_dim(self, dim, kw)})


def _soft_dim(x: Tensor, dim: int | None, kw: dict) -> int:
    unknown = set(kw) - {"_stacklevel"}
    if unknown:
        raise TypeError(f"softmax() got an unexpected keyword argument {unknown.pop()!r}")
    if dim is None:
        return 0 if x.ndim in (0, 1, 3) else 1  # torch's _get_softmax_dim (it warns; so should you)
    return dim


def _soft_input(op: str, x: Tensor, dtype: dtypes.dtype | None) -> Tensor:
    x = _cast_for(x, dtype)
    if x._data.dtype.kind != "f":
        raise KernelDtypeError(op, f"not implemented for '{x.dtype.name}' (pass dtype=torch.float32)")
    return x


def _logical(name: str, ufunc: Any, unary: bool = False) -> Any:
    """~, &, |, ^ on bool and integer tensors (plain data: no gradient), torch's error on floats."""
    def method(self: Tensor, other: Any = None) -> Tensor:
        b = getattr(other, "_data", other)
        if self._data.dtype.kind == "f" or getattr(b, "dtype", np.dtype(bool)).kind == "f" or isinstance(b, float):
            raise KernelDtypeError(name, "only implemented on integer and Boolean-type tensors, got a floating one")
        return Tensor._make(np.asarray(ufunc(self._data) if unary else ufunc(self._data, b)))

    return method


def logical(ufunc: Any, unary: bool = False) -> Any:
    """torch.logical_*: the truth of any dtype, a bool result."""
    def fn(input: Tensor, other: Any = None) -> Tensor:
        a = input._data.astype(bool)
        if unary:
            return Tensor._make(np.asarray(ufunc(a)))
        return Tensor._make(np.asarray(ufunc(a, np.asarray(getattr(other, "_data", other)).astype(bool))))

    return fn


def remainder(self: Tensor, other: Any) -> Tensor:
    """Python's modulo (the sign of the divisor), as torch's; d(x % c)/dx = 1 for a constant c."""
    b = getattr(other, "_data", other)
    if isinstance(other, Tensor) and other._requires_grad and _mode.enabled:
        raise NotImplementedError("remainder with a divisor that requires grad is not supported")
    if self._data.dtype.kind in "biu" and np.asarray(b).dtype.kind in "biu":
        if np.any(np.asarray(b) == 0):
            raise RuntimeError("ZeroDivisionError")
        return Tensor._make(np.asarray(np.mod(self._data, b)).astype(np.int64))
    whole = np.asarray(np.floor(self._data / b) * b)  # a constant: no gradient flows through it
    out = self - Tensor._make(whole.astype(self._data.dtype) if self._data.dtype.kind == "f" else whole)
    return _renamed(out, "RemainderBackward0")


def cumsum(self: Tensor, dim: int, *, dtype: dtypes.dtype | None = None) -> Tensor:
    x = _cast_for(self, dtype)
    if x._data.dtype.kind in "biu":
        return Tensor._make(np.cumsum(x._data, axis=dim).astype(np.int64))
    return apply("cumsum", (x,), {"dim": dim})


def _absent_dtype(name: str, torch_dtype: str) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        raise TypeError(f"x.{name}() would make a tensor of dtype {torch_dtype}: crossgrad's dtypes are float32, "
                        "float64, int64 and bool (use .float(), .double(), .long() or .bool())")

    return method


def prod(self: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: dtypes.dtype | None = None) -> Tensor:
    x = _cast_for(self, dtype)
    if x._data.dtype.kind in "biu":
        axis = None if dim is None else dim
        return Tensor._make(np.asarray(np.prod(x._data, axis=axis, keepdims=keepdim and dim is not None), np.int64))
    return R.prod(x, dim, keepdim)


def clone(self: Tensor, *, memory_format: Any = None) -> Tensor:
    return _CLONE(self)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """In place, torch's numbers (torch_dists.uniform; a non-contiguous tensor is filled in C order)."""
    return self._inplace(_uniform(self._data.shape, a, b, _fill_dtype(self), generator))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """In place, torch's numbers (torch_dists.normal)."""
    return self._inplace(_normal(self._data.shape, mean, std, _fill_dtype(self), generator))


def _fill_dtype(self: Tensor) -> Any:
    return self._data.dtype if self._data.dtype.kind == "f" else np.float64


_MATMUL = TensorMath.__matmul__


def matmul(self: Tensor, other: Any) -> Tensor:
    """x @ y; operands of different dtypes are refused, as torch's (the same dtype: the fast path)."""
    if type(other) is Tensor and self._data.dtype == other._data.dtype:
        return _MATMUL(self, other)
    return F.matmul(self, other)


FLOAT_UNARY = ("exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "erf", "log1p", "expm1",
               "reciprocal", "rsqrt")
_METHODS: dict[str, Any] = {
    "sum": sum, "mean": mean, "square": square, "clamp": clamp, "clip": clamp, "clamp_": clamp_, "clip_": clamp_,
    "clamp_min": lambda self, min: clamp(self, min=min), "clamp_max": lambda self, max: clamp(self, max=max),
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div, "divide": div,
    "true_divide": div, "div_": div_, "masked_fill_": masked_fill_,
    "__floordiv__": floordiv, "__rfloordiv__": rfloordiv, "floor_divide": floordiv,
    "__iadd__": _inplace_binary("add"), "__isub__": _inplace_binary("sub"),
    "__imul__": _inplace_binary("mul"), "__itruediv__": _inplace_binary("truediv"),
    "unbind": unbind, "narrow": narrow, "type_as": type_as, "new_full": new_full, "new_tensor": new_tensor,
    "new_zeros": _new(np.zeros), "new_ones": _new(np.ones), "new_empty": _new(np.zeros),
    "view_as": lambda self, other: self.view(tuple(other.shape)),
    "reshape_as": lambda self, other: self.reshape(tuple(other.shape)),
    "swapaxes": lambda self, a, b: self.transpose(a, b), "swapdims": lambda self, a, b: self.transpose(a, b),
    "mm": lambda self, other: F.matmul(self, other),
    "nelement": lambda self: self.numel(), "is_floating_point": lambda self: self.dtype.is_floating_point,
    "is_contiguous": lambda self, memory_format=None: True, "element_size": lambda self: self._data.itemsize,
    "mT": property(lambda self: self.transpose(-2, -1)),
    "t": lambda self: _renamed(TensorMath.t(self), "TBackward0") if self.ndim == 2 else TensorMath.t(self),
    "softmax": softmax, "log_softmax": log_softmax, "tril": tril, "triu": triu, "cumsum": cumsum,
    "prod": prod, "clone": clone, "uniform_": uniform_, "normal_": normal_,
    "__invert__": _logical("bitwise_not", np.invert, unary=True), "__and__": _logical("bitwise_and", np.bitwise_and),
    "__or__": _logical("bitwise_or", np.bitwise_or), "__xor__": _logical("bitwise_xor", np.bitwise_xor),
    "__rand__": _logical("bitwise_and", np.bitwise_and), "__ror__": _logical("bitwise_or", np.bitwise_or),
    "logical_not": logical(np.logical_not, unary=True), "logical_and": logical(np.logical_and),
    "logical_or": logical(np.logical_or), "logical_xor": logical(np.logical_xor),
    "__mod__": remainder, "remainder": remainder,
    "__matmul__": matmul, "matmul": matmul,
    "__rmatmul__": lambda self, other: F.matmul(other, self),
}
_METHODS.update((name, _float_unary(name)) for name in FLOAT_UNARY)
_METHODS.update((name, _absent_dtype(name, dt)) for name, dt in (("int", "int32"), ("half", "float16"),
                ("short", "int16"), ("byte", "uint8"), ("char", "int8"), ("bfloat16", "bfloat16")))
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
