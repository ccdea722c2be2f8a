"""Backward under ``create_graph``: the same VJP rules, run on recording tensors.

A node's VJP is ordinary numpy code. Under create_graph it receives :class:`RuleTensor`s
instead of arrays: the incoming gradient, and live tensors in place of the saved values that
are the op's own inputs or output (matched by identity of the saved array). numpy operators
and functions on a RuleTensor dispatch, through ``__array_ufunc__`` / ``__array_function__``,
to catalogue ops that record graph nodes, so the gradient it returns can be differentiated
again. Non-differentiable numpy results (masks, signs, ``zeros_like``) are constants.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..errors import CrossgradError
from . import dispatch
from .tensor import Tensor
from .vjp_inputs import linked


class HigherOrderError(CrossgradError, NotImplementedError):
    """A VJP used a numpy function that has no recording catalogue op."""


class _Current(threading.local):
    op = "?"


_current = _Current()


class RuleTensor(Tensor):
    """A Tensor with numpy's spelling (``axis=``, ``.size``, numpy ``.dtype``), for VJP rules."""

    __slots__ = ("_origin", "_hold")
    __array_priority__ = 1000
    _origin: Tensor | None
    _hold: Any

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Any = None,
              requires_grad: bool = False) -> RuleTensor:
        t = cast(RuleTensor, super()._make(data, grad_fn, requires_grad))
        t._origin = t._hold = None
        return t

    @property
    def dtype(self) -> Any:
        return self._data.dtype

    @property
    def size(self) -> int:  # type: ignore[override]
        return int(self._data.size)

    @property
    def shape(self) -> tuple:  # type: ignore[override]
        return self._data.shape

    def sum(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:  # type: ignore[override]
        return record("sum", (self,), dim=_axes(axis), keepdim=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:  # type: ignore[override]
        return record("mean", (self,), dim=_axes(axis), keepdim=keepdims)

    def reshape(self, *shape: Any) -> Any:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return record("reshape", (self,), shape=tuple(int(s) for s in shape))

    @property
    def T(self) -> Any:
        return record("permute", (self,), dims=tuple(reversed(range(self._data.ndim))))

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        if np.dtype(dtype) == self._data.dtype:
            return self
        if not self._requires_grad:
            return constant(self._data.astype(dtype))
        if np.dtype(dtype).name in ("float32", "float64"):
            return record("to_dtype", (self,), dtype=np.dtype(dtype).name)
        raise _unmapped("astype")

    def __getitem__(self, index: Any) -> Any:
        items = index if isinstance(index, tuple) else (index,)
        if any(i is None for i in items):
            if not all(i is None or i == slice(None) or i is Ellipsis for i in items):
                raise _unmapped("indexing with None and integers")
            shape = np.broadcast_to(np.False_, self._data.shape)[index].shape
            return self.reshape(shape)
        return as_rule(Tensor.__getitem__(self, index))

    def __setitem__(self, index: Any, value: Any) -> None:
        if _live(self) or _live(value):
            raise _unmapped("an in-place write (x[i] = v) into a recorded tensor")
        Tensor.__setitem__(self, index, value)

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs.get("out") is not None:
            raise _unmapped(f"{ufunc.__name__}.{method}")
        if ufunc.__name__ in _CONSTANT_UFUNCS or not any(_live(a) for a in args):
            return constant(ufunc(*[_raw(a) for a in args], **kwargs))
        fn = _UFUNCS.get(ufunc.__name__)
        if fn is None:
            raise _unmapped(ufunc.__name__)
        return fn(*args)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = func.__name__
        if name in _CONSTANT or not any(_live(a) for a in _flat(args, kwargs)):
            return _on_data(func, args, kwargs)
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise _unmapped(f"np.{name}")
        return fn(*args, **kwargs)


def _rewrapped(f: Callable) -> Callable:
    """Tensor's operator ``f``, its result in numpy spelling."""
    return lambda self, *other: as_rule(f(self, *[_tensor(o) for o in other]))


def _logical(ufunc: Any) -> Callable:
    """``&``, ``|``, ``^``, ``~`` on masks: piecewise constant, so a constant (never of a live tensor)."""
    def apply(*xs: Any) -> Any:
        if any(_live(x) for x in xs):
            raise _unmapped(f"{ufunc.__name__} of a differentiable tensor")
        return constant(ufunc(*[_raw(x) for x in xs]))
    return apply


for _name, _ufunc in (("__and__", np.bitwise_and), ("__rand__", np.bitwise_and), ("__or__", np.bitwise_or),
                      ("__ror__", np.bitwise_or), ("__xor__", np.bitwise_xor), ("__invert__", np.invert)):
    setattr(RuleTensor, _name, _logical(_ufunc))
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__matmul__", "__rmatmul__", "__pow__",
              "__rpow__", "__neg__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(RuleTensor, _name, _rewrapped(getattr(Tensor, _name)))
RuleTensor.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]


def _unmapped(what: str) -> HigherOrderError:
    return HigherOrderError(f"the VJP of op {_current.op!r} uses {what}, which has no catalogue "
                            "op to record under create_graph")


def _live(x: Any) -> bool:
    return isinstance(x, Tensor) and x._requires_grad


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _flat(args: Any, kwargs: dict) -> list:
    out: list = []
    for a in list(args) + list(kwargs.values()):
        out.extend(a if isinstance(a, (list, tuple)) else [a])
    return out


def _on_data(func: Any, args: Any, kwargs: dict) -> Any:
    """A numpy function of constants (or a non-differentiable one): its plain result."""
    def raw(a: Any) -> Any:
        return type(a)(raw(b) for b in a) if isinstance(a, (list, tuple)) else _raw(a)
    out = func(*[raw(a) for a in args], **{k: raw(v) for k, v in kwargs.items()})
    return constant(out) if isinstance(out, np.ndarray) else out


def _axes(axis: Any) -> Any:
    return None if axis is None else int(axis) if isinstance(axis, (int, np.integer)) \
        else tuple(int(a) for a in axis)


def _tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else constant(np.asarray(x)) if isinstance(x, np.ndarray) \
        else x


def constant(arr: Any) -> RuleTensor:
    return RuleTensor._make(np.asarray(arr))


def as_rule(t: Tensor) -> RuleTensor:
    """The same tensor in numpy spelling: shares data, grad_fn and a leaf's accumulator."""
    if isinstance(t, RuleTensor):
        return t
    r = RuleTensor._make(t._data, t.grad_fn, t._requires_grad)
    r._origin = t
    if t._requires_grad and t.grad_fn is None:  # a leaf: the same AccumulateGrad, kept alive
        r._hold = dispatch.edge(t)[0]
        r._accumulator = t._accumulator
    return r


def as_plain(x: Any) -> Tensor | None:
    """A VJP's result as an ordinary Tensor (the original object when it was one)."""
    if x is None:
        return None
    if not isinstance(x, Tensor):
        return Tensor._make(np.asarray(x))
    if isinstance(x, RuleTensor):
        if x._origin is not None:
            return x._origin
        return Tensor._make(x._data, x.grad_fn, x._requires_grad)
    return x


def record(op: str, inputs: tuple, **attrs: Any) -> RuleTensor:
    """Run catalogue op ``op`` with the catalogue's default attributes, recorded."""
    from .. import ops

    full = ops.CATALOGUE[op].defaults() | attrs
    return as_rule(dispatch.apply(op, tuple(_tensor(x) for x in inputs), full))


def _where(cond: Any, a: Any, b: Any) -> Any:
    """where with a constant mask, recorded as the catalogue's where (a non-finite value off the
    mask stays out: std's and norm's VJPs at 0 pick 0 where the division gives nan)."""
    dtype = np.result_type(*[_raw(x) for x in (a, b)])
    a, b = (x if isinstance(x, Tensor) else constant(np.asarray(x, dtype)) for x in (a, b))
    return record("where", (constant(np.asarray(_raw(cond), dtype=bool)), a, b))


def _broadcast_to(x: Any, shape: Any, **kw: Any) -> Any:
    x = _tensor(x)
    return x if x.shape == tuple(shape) else x * np.ones(shape, x.dtype)


def _expand_dims(x: Any, axis: Any) -> Any:
    return x.reshape(np.expand_dims(np.broadcast_to(np.False_, x.shape), axis).shape)


def _swapaxes(x: Any, a: int, b: int) -> Any:
    return record("transpose", (x,), dim0=int(a), dim1=int(b)) if x.ndim else x


def _transpose(x: Any, axes: Any = None) -> Any:
    dims = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) for a in axes)
    return record("permute", (x,), dims=dims)


def _split(x: Any, cuts: Any, axis: int = 0) -> list:
    """np.split as slices (recorded slice ops)."""
    axis, n = axis % x.ndim, x.shape[axis]
    bounds = list(range(0, n + 1, n // int(cuts))) if np.ndim(cuts) == 0 else [0, *map(int, cuts), n]
    return [x[(slice(None),) * axis + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def _pow(a: Any, b: Any) -> Any:
    if isinstance(b, (int, float, np.number)) or (isinstance(b, np.ndarray) and b.ndim == 0):
        return record("pow", (a,), exponent=float(b))
    return record("pow_tensor", (a, b))


def _logaddexp(a: Any, b: Any) -> Any:
    if not isinstance(a, Tensor) and np.all(np.asarray(a) == 0):
        return record("softplus", (b,), beta=1.0, threshold=float("inf"))
    raise _unmapped("np.logaddexp with a nonzero first argument")


def _clip(x: Any, lo: Any = None, hi: Any = None, **kw: Any) -> Any:
    """np.clip with constant scalar bounds: catalogue clamp (the gradient passes at the bounds)."""
    bounds = [None if b is None else np.asarray(_raw(b)) for b in (lo, hi)]
    if any(b is not None and (b.ndim or _live(c)) for b, c in zip(bounds, (lo, hi))) or kw:
        raise _unmapped("np.clip with array bounds")
    return record("clamp", (x,), min=None if lo is None else float(_raw(lo)),
                  max=None if hi is None else float(_raw(hi)))


def _flip(x: Any, axis: Any = None) -> Any:
    dims = range(x.ndim) if axis is None else (axis,) if isinstance(axis, (int, np.integer)) else axis
    return record("flip", (x,), dims=tuple(int(d) for d in dims)) if x.ndim else x


def _cumsum(x: Any, axis: Any = None, **kw: Any) -> Any:
    if axis is None or kw.get("dtype") is not None:
        raise _unmapped("np.cumsum without an axis")
    return record("cumsum", (x,), dim=int(axis))


def _take(x: Any, index: Any, axis: Any = None, **kw: Any) -> Any:
    if axis is None or not isinstance(index, (int, np.integer)) or kw:
        raise _unmapped("np.take other than one integer along an axis")
    return record("select", (x,), dim=int(axis), index=int(index))


def _unary(op: str) -> Callable:
    return lambda x: record(op, (x,))


def _binary(op: str) -> Callable:
    """A binary Tensor method (scalars take the tensor's dtype, as torch's do)."""
    if not op.startswith("__"):
        return lambda a, b: as_rule(Tensor._binary(a, op, b) if isinstance(a, Tensor)
                                    else Tensor._rbinary(b, op, _tensor(a)))
    return lambda a, b: as_rule(getattr(Tensor, op)(_tensor(a), _tensor(b)) if isinstance(
        a, Tensor) else getattr(Tensor, op.replace("__", "__r", 1))(_tensor(b), _tensor(a)))


_UFUNCS: dict[str, Callable] = {
    "add": _binary("__add__"), "subtract": _binary("__sub__"), "multiply": _binary("__mul__"),
    "divide": _binary("__truediv__"), "true_divide": _binary("__truediv__"),
    "matmul": _binary("__matmul__"), "power": _pow, "negative": _unary("neg"),
    "exp": _unary("exp"), "log": _unary("log"), "sqrt": _unary("sqrt"), "tanh": _unary("tanh"),
    "absolute": _unary("abs"), "maximum": _binary("maximum"), "minimum": _binary("minimum"),
    "logaddexp": _logaddexp,
    "sin": _unary("sin"), "cos": _unary("cos"), "expm1": _unary("expm1"), "log1p": _unary("log1p"),
    "square": _unary("square"), "reciprocal": _unary("reciprocal"),
}
_FUNCTIONS: dict[str, Callable] = {
    "sum": lambda x, axis=None, keepdims=False, **k: _tensor(x).sum(axis, keepdims),
    "mean": lambda x, axis=None, keepdims=False, **k: _tensor(x).mean(axis, keepdims),
    "reshape": lambda x, shape, **k: x.reshape(shape), "where": _where,
    "broadcast_to": _broadcast_to, "expand_dims": _expand_dims, "swapaxes": _swapaxes,
    "transpose": _transpose, "matmul": lambda a, b: _UFUNCS["matmul"](a, b), "clip": _clip,
    "tril": lambda x, k=0: record("tril", (x,), diagonal=int(k)),
    "triu": lambda x, k=0: record("triu", (x,), diagonal=int(k)),
    "flip": _flip, "cumsum": _cumsum, "split": _split, "take": _take,
}
_CONSTANT_UFUNCS = frozenset({  # piecewise constant: derivative zero where defined
    "sign", "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "isfinite",
    "isnan", "isinf", "logical_and", "logical_or", "logical_not", "floor", "ceil", "rint",
    "trunc", "signbit", "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "logical_xor"})
_CONSTANT = frozenset({"zeros_like", "ones_like", "empty_like", "shape", "ndim", "size",
                       "result_type", "broadcast_shapes", "argmax", "argmin", "isfinite"})


def run_vjp(node: Any, grad: Tensor) -> tuple:
    """Run ``node``'s VJP on live tensors; returns plain Tensors (or None) per input."""
    saved = node.saved
    if node.freed or (saved is not None and node.inputs is None):
        from .autograd import SECOND_BACKWARD
        raise RuntimeError(SECOND_BACKWARD)
    if saved is not None:
        live = {id(t._data): as_rule(t) for t in node.inputs if t is not None}
        live[id(node.out)] = as_rule(Tensor._make(node.out, node))
        saved = _substitute(saved, live, node.inputs)
    prev, _current.op = _current.op, node.op
    try:
        grads = node.vjp(as_rule(grad), saved, node)
    finally:
        _current.op = prev
    return linked(node, tuple(as_plain(g) for g in grads))


def _substitute(saved: Any, live: dict, inputs: tuple) -> Any:
    """Saved arrays as the live tensors they are. Two inputs may share one array (``h[:] * h``
    under no_grad, ``h.detach() * h``): an input saved at its own position is taken by position."""
    if isinstance(saved, tuple):
        return tuple(_positional(s, k, inputs, live) for k, s in enumerate(saved))
    return live.get(id(saved), saved) if isinstance(saved, np.ndarray) else saved


def _positional(s: Any, k: int, inputs: tuple, live: dict) -> Any:
    if not isinstance(s, np.ndarray):
        return s
    if k < len(inputs) and inputs[k] is not None and inputs[k]._data is s:
        return as_rule(inputs[k])
    return live.get(id(s), s)
