"""Tensor's operators and math methods: each one is a call to a catalogue op."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .autograd import node_class
from .dispatch import apply
from .shape_api import ShapeMethods

_SCALARS: dict[tuple[Any, Any], np.ndarray] = {}


def _scalar(value: Any, dtype: Any) -> np.ndarray:
    """A read-only 0-d array per (number, dtype), reused: scalar operands are never written.
    A zero float is keyed by its hex form, so -0.0 and 0.0 (equal as keys) stay apart; other
    numbers by value (1 and 1.0 are the same array in one dtype)."""
    key = (value.hex() if not value and type(value) is float else value, dtype)
    arr = _SCALARS.get(key)
    if arr is None:
        if len(_SCALARS) > 1024:
            _SCALARS.clear()
        arr = _SCALARS[key] = np.asarray(value, dtype)
        arr.flags.writeable = False
    return arr


def wrap(value: Any, like: Any) -> Any:
    """A Tensor for ``value``; Python numbers take ``like``'s dtype (as PyTorch scalars do)."""
    if isinstance(value, TensorMath):
        return value
    dtype = like._data.dtype
    if type(value) is float and dtype.kind == "f" or type(value) is int and dtype.kind in "fi":
        return like._make(_scalar(value, dtype))  # the common case, without result_type
    if type(value) is float and dtype.kind in "bi":
        arr = np.asarray(value, dtypes.DEFAULT_FLOAT.np)  # torch: integral tensor op float -> default float
    elif isinstance(value, (bool, int, float, np.number)):
        arr = np.asarray(value, dtype=np.result_type(like._data.dtype, value))
    else:
        arr = np.asarray(value)
    return like._make(arr)


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _promote(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    """torch's category rule where numpy differs: an integral/bool operand meeting a floating one
    takes that float dtype (int64 * float32 is float32), and true division of integers is default-float."""
    ka, kb = a._data.dtype.kind, b._data.dtype.kind
    if ka in "bi" and kb == "f":
        a = a._make(a._data.astype(b._data.dtype))
    elif kb in "bi" and ka == "f":
        b = b._make(b._data.astype(a._data.dtype))
    elif op == "sub" and ka == kb == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    elif op == "div" and ka in "bi" and kb in "bi":
        a, b = (t._make(t._data.astype(dtypes.DEFAULT_FLOAT.np)) for t in (a, b))
    elif ka == kb == "f" and a._data.dtype != b._data.dtype:
        a, b = _zero_dim_follows(a, b)
    return a, b


def _zero_dim_follows(a: Any, b: Any) -> tuple[Any, Any]:
    """torch: a 0-d float tensor takes a dimensioned float tensor's dtype (float32 x + tensor(2.,
    float64) is float32). Only a 0-d tensor that does not require grad is cast (casts are not recorded)."""
    if not a._data.ndim and b._data.ndim and not a._requires_grad:
        return a._make(a._data.astype(b._data.dtype)), b
    if not b._data.ndim and a._data.ndim and not b._requires_grad:
        return a, b._make(b._data.astype(a._data.dtype))
    return a, b


def _renamed(out: Any, grad_fn_name: str) -> Any:
    """Show torch's grad_fn name for a recorded op torch names by its call form (2 - x: RsubBackward1)."""
    if out.grad_fn is not None:
        out.grad_fn.__class__ = node_class(grad_fn_name)
    return out


class TensorMath(ShapeMethods):
    __slots__ = ()
    _data: np.ndarray

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Any = None, requires_grad: bool = False) -> Any:
        raise NotImplementedError

    def _binary(self, op: str, other: Any) -> Any:
        kind = type(other)
        if kind is float or kind is int:  # tensor op number, the commonest call: nothing to promote
            dtype = self._data.dtype
            if dtype.kind == "f":
                return apply(op, (self, self._make(_scalar(other, dtype))), {})
        return apply(op, _promote(self, wrap(other, self), op), {})

    def _rbinary(self, op: str, other: Any) -> Any:
        return apply(op, _promote(wrap(other, self), self, op), {})

    def __add__(self, other: Any) -> Any:
        return self._binary("add", other)

    def __radd__(self, other: Any) -> Any:
        return self._rbinary("add", other)

    def __sub__(self, other: Any) -> Any:
        return self._binary("sub", other)

    def __rsub__(self, other: Any) -> Any:
        return _renamed(self._rbinary("sub", other), "RsubBackward1")

    def __mul__(self, other: Any) -> Any:
        return self._binary("mul", other)

    def __rmul__(self, other: Any) -> Any:
        return self._rbinary("mul", other)

    def __truediv__(self, other: Any) -> Any:
        return self._binary("div", other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._rbinary("div", other)

    def __matmul__(self, other: Any) -> Any:
        return self._binary("matmul", other)

    def __rmatmul__(self, other: Any) -> Any:
        return self._rbinary("matmul", other)

    def __pow__(self, exponent: Any) -> Any:
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            if self._data.dtype.kind in "bi":  # integral tensors never require grad
                if type(exponent) is int:
                    if exponent < 0:
                        raise RuntimeError("Integers to negative integer powers are not allowed.")
                    return self._make(np.power(self._data.astype(np.int64), exponent))
                return self._make(self._data.astype(dtypes.DEFAULT_FLOAT.np)) ** exponent
            return apply("pow", (self,), {"exponent": float(exponent)})
        return self._binary("pow_tensor", exponent)

    def __rpow__(self, base: Any) -> Any:
        return _renamed(self._rbinary("pow_tensor", base), "PowBackward2")

    def __neg__(self) -> Any:
        if self._data.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return apply("neg", (self,), {})

    def pow(self, exponent: Any) -> Any:
        return self ** exponent

    def matmul(self, other: Any) -> Any:
        return self._binary("matmul", other)

    def maximum(self, other: Any) -> Any:
        return self._binary("maximum", other)

    def minimum(self, other: Any) -> Any:
        return self._binary("minimum", other)

    # --- comparisons: plain bool tensors, never recorded -------------------------------
    def _compare(self, ufunc: Any, other: Any) -> Any:
        return self._make(np.asarray(ufunc(self._data, getattr(other, "_data", other))))

    def __eq__(self, other: Any) -> Any:
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Any:
        return self._compare(np.not_equal, other)

    def __lt__(self, other: Any) -> Any:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Any:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Any:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Any:
        return self._compare(np.greater_equal, other)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Any:
        out = np.argmax(self._data, axis=dim, keepdims=keepdim)
        return self._make(np.asarray(out, dtype=np.int64))

    # --- elementwise ---------------------------------------------------------------------
    def _unary(self, op: str, **attrs: Any) -> Any:
        return apply(op, (self,), attrs)

    def neg(self) -> Any:
        return -self

    def exp(self) -> Any:
        return self._unary("exp")

    def log(self) -> Any:
        return self._unary("log")

    def sqrt(self) -> Any:
        return self._unary("sqrt")

    def tanh(self) -> Any:
        return self._unary("tanh")

    def sigmoid(self) -> Any:
        return self._unary("sigmoid")

    def relu(self) -> Any:
        return self._unary("relu")

    def abs(self) -> Any:
        return self._unary("abs")

    def softmax(self, dim: int) -> Any:
        return self._unary("softmax", dim=dim)

    def log_softmax(self, dim: int) -> Any:
        return self._unary("log_softmax", dim=dim)

    # --- reductions and shapes -----------------------------------------------------------
    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Any:
        return self._unary("sum", dim=dim, keepdim=keepdim)

    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Any:
        return self._unary("mean", dim=dim, keepdim=keepdim)

    def reshape(self, *shape: Any) -> Any:
        return self._unary("reshape", shape=_shape_arg(shape))

    def view(self, *shape: Any) -> Any:
        return self._unary("reshape", shape=_shape_arg(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        return self._unary("flatten", start_dim=start_dim, end_dim=end_dim)

    def transpose(self, dim0: int, dim1: int) -> Any:
        return self._unary("transpose", dim0=dim0, dim1=dim1)

    def t(self) -> Any:
        return self._unary("transpose", dim0=0, dim1=-1)

    def permute(self, *dims: Any) -> Any:
        return self._unary("permute", dims=_shape_arg(dims))

    @property
    def T(self) -> Any:
        return self._unary("permute", dims=tuple(reversed(range(self._data.ndim))))

    def __getitem__(self, index: Any) -> Any:
        """Integers and slices, one per dim (select / slice ops, as PyTorch records them)."""
        if isinstance(index, list) or (isinstance(index, TensorMath) and index._data.dtype == np.int64):
            return self._index_tensor(index if isinstance(index, TensorMath) else self._make(np.asarray(index)))
        items = index if isinstance(index, tuple) else (index,)
        if len(items) > self._data.ndim:
            raise IndexError(f"too many indices for tensor of dimension {self._data.ndim}")
        out, dim = self, 0
        for item in items:
            if isinstance(item, slice):
                if item != slice(None):
                    out = out._unary("slice", dim=dim, start=item.start, stop=item.stop,
                                     step=1 if item.step is None else item.step)
                dim += 1
            elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                out = out._unary("select", dim=dim, index=int(item))
            else:
                raise IndexError(f"crossgrad indexes by integers and slices only, got "
                                 f"{type(item).__name__}")
        return out
