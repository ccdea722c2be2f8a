"""torch's function forms of the Tensor surface (``torch.sum``, ``torch.add``, ``torch.transpose``,
``torch.max(a, b)``, ``torch.where(cond)``, ``torch.eye``...): each calls the Tensor method or
catalogue op PyTorch's function stands for, with torch's argument names and defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DtypeError
from . import dtypes, shape_api
from . import functional_elementwise as E
from . import functional_reductions as R
from . import tensor_compat as C
from .autograd import set_grad_enabled
from .creation import _new, _size
from .tensor import Tensor
from .tensor_math import _renamed, wrap

sum, mean, clamp, square = C.sum, C.mean, C.clamp, C.square  # noqa: A001
softmax, log_softmax, tril, triu = C.softmax, C.log_softmax, C.tril, C.triu
add, sub, mul, div = C.add, C.sub, C.mul, C.div
subtract, multiply, divide, true_divide = sub, mul, div, div
exp, log, sqrt, tanh, sigmoid, sin, cos, erf, log1p, expm1, reciprocal, rsqrt = (
    C._float_unary(n) for n in C.FLOAT_UNARY)


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


logical_not, logical_and, logical_or, logical_xor = (C.logical(np.logical_not, unary=True), C.logical(np.logical_and),
                                                     C.logical(np.logical_or), C.logical(np.logical_xor))
remainder, cumsum, prod, clone = C.remainder, C.cumsum, C.prod, C.clone


def as_tensor(data: Any, dtype: dtypes.dtype | None = None, device: Any = None) -> Tensor:
    """The tensor itself when nothing changes (as torch), else a new one."""
    if isinstance(data, Tensor) and (dtype is None or dtype == data.dtype):
        return data
    return Tensor(getattr(data, "_data", data), dtype=dtype)


def FloatTensor(*args: Any) -> Tensor:  # noqa: N802 (torch's legacy constructor names)
    """torch.FloatTensor(data) / FloatTensor(*size) (zeros; crossgrad never hands out uninitialized memory)."""
    return _legacy(dtypes.float32, args)


def DoubleTensor(*args: Any) -> Tensor:  # noqa: N802
    return _legacy(dtypes.float64, args)


def LongTensor(*args: Any) -> Tensor:  # noqa: N802
    return _legacy(dtypes.int64, args)


def BoolTensor(*args: Any) -> Tensor:  # noqa: N802
    return _legacy(dtypes.bool_, args)


def _legacy(dtype: dtypes.dtype, args: tuple) -> Tensor:
    if args and all(isinstance(a, int) for a in args):
        return Tensor._make(np.zeros(args, dtype.np))
    return Tensor(args[0] if args else [], dtype=dtype)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    return input ** exponent if isinstance(input, Tensor) else exponent.__rpow__(input)


def neg(input: Tensor) -> Tensor:
    return -input


negative = neg


def floor_divide(input: Any, other: Any) -> Tensor:
    return C._rounded_div(input, other, "floor")


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    return input.t()


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return input.reshape(tuple(shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return input.permute(tuple(dims))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.dim()}-D and {mat2.dim()}-D")
    return input.matmul(mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.dim()}-D and {mat2.dim()}-D")
    return _renamed(input.matmul(mat2), "BmmBackward0")


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.unsqueeze(-1) * vec2


ger = outer


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    return input.masked_fill(mask, value)


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """torch.cat; integer or bool members join floating ones in their float dtype, as torch promotes."""
    tensors = shape_api._tensors("cat", tensors)
    floats = [t._data.dtype for t in tensors if t._data.dtype.kind == "f"]
    if floats:
        target = np.result_type(*floats)
        tensors = tuple(t if t._data.dtype.kind == "f" else Tensor._make(t._data.astype(target)) for t in tensors)
    return shape_api.cat(tensors, dim if axis is None else axis)


concat = concatenate = cat


def unbind(input: Tensor, dim: int = 0) -> tuple:
    return C.unbind(input, dim)


def _extreme(op: str, input: Tensor, dim: Any, keepdim: bool) -> Any:
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return E.maximum_of(op, input, dim)
    return (R.max if op == "max" else R.min)(input, dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Tensor | None = None) -> Any:  # noqa: A001
    return _extreme("max", input, other if other is not None else dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Tensor | None = None) -> Any:  # noqa: A001
    return _extreme("min", input, other if other is not None else dim, keepdim)


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    mean = C.mean(input, () if dim is None else dim, keepdim)
    pair = (R.var(input, dim, unbiased, keepdim, correction=correction), mean)
    return _renamed(pair[0], "VarMeanBackward0"), _renamed(pair[1], "VarMeanBackward0")  # torch's one node


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    mean = C.mean(input, () if dim is None else dim, keepdim)
    pair = (R.std(input, dim, unbiased, keepdim, correction=correction), mean)
    return _renamed(pair[0], "StdMeanBackward0"), _renamed(pair[1], "StdMeanBackward0")


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    idx = np.nonzero(_t(input)._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(np.stack(idx, axis=-1).astype(np.int64).reshape(-1, _t(input).dim()))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """torch.where(cond) is nonzero(cond, as_tuple=True); torch.where(cond, a, b) picks a or b,
    promoting as torch's arithmetic does (an int tensor and a float become float)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    cond = _t(condition)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(np.asarray(input, _scalar_dtype(input, other)))
    a = input if isinstance(input, Tensor) else None
    b = other if isinstance(other, Tensor) else None
    a, b = (a if a is not None else wrap(input, b)), (b if b is not None else wrap(other, a))
    if a._data.dtype.kind == "f" or b._data.dtype.kind == "f":
        a, b = _float_pair(a, b)
        return E.where(cond, a, b)
    if cond._data.dtype != np.bool_:
        raise DtypeError("where", f"condition must be a bool tensor, got {cond.dtype}")
    return Tensor._make(np.where(cond._data, a._data, b._data))


def _scalar_dtype(a: Any, b: Any) -> Any:
    if isinstance(a, float) or isinstance(b, float):
        return dtypes.DEFAULT_FLOAT.np
    return np.bool_ if isinstance(a, bool) and isinstance(b, bool) else np.int64


def _float_pair(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    if a._data.dtype.kind != "f":
        a = Tensor._make(a._data.astype(b._data.dtype))
    if b._data.dtype.kind != "f":
        b = Tensor._make(b._data.astype(a._data.dtype))
    return a, b


def empty(*size: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """Zeros (crossgrad never hands out uninitialized memory)."""
    return _new(np.zeros(_size(size), (dtype or dtypes.DEFAULT_FLOAT).np), requires_grad)


def empty_like(input: Tensor, dtype: dtypes.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(input._data.shape, (dtype.np if dtype else input._data.dtype)), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: dtypes.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _new(np.eye(int(n), None if m is None else int(m), dtype=(dtype or dtypes.DEFAULT_FLOAT).np),
                requires_grad)


def get_default_dtype() -> dtypes.dtype:
    return dtypes.DEFAULT_FLOAT


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.dtype.is_floating_point


def numel(input: Tensor) -> int:
    return input.numel()


class inference_mode(set_grad_enabled):
    """torch.inference_mode(mode=True): here, no_grad (crossgrad has no inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)


__all__ = [
    "add", "argmax", "as_tensor", "bmm", "BoolTensor", "cat", "clamp", "clone", "concat", "concatenate", "cos",
    "cumsum", "div", "divide", "DoubleTensor", "empty", "empty_like", "erf", "exp", "expm1", "eye", "flatten",
    "FloatTensor", "floor_divide", "ger", "get_default_dtype", "inference_mode", "is_floating_point",
    "is_tensor", "log", "log1p", "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor",
    "LongTensor", "masked_fill", "max", "mean", "min", "mm", "mul", "multiply", "neg", "negative", "nonzero",
    "numel", "outer", "permute", "pow", "prod", "reciprocal", "remainder", "reshape", "rsqrt", "sigmoid", "sin",
    "softmax", "sqrt", "square", "std_mean", "sub", "subtract", "sum", "swapaxes", "swapdims", "t", "tanh",
    "transpose", "tril", "triu", "true_divide", "unbind", "var_mean", "where",
]

Tensor.max = max  # type: ignore[attr-defined]  # x.max(other): the elementwise maximum, as in torch
Tensor.min = min  # type: ignore[attr-defined]
Tensor.bmm = bmm  # type: ignore[attr-defined]
