"""In-place forms as torch's: ``F.relu(x, inplace=True)``, ``nn.ReLU(inplace=True)``, ``F.relu_(x)``,
``x.relu_()``, ``x.exp_()``, ``x.unsqueeze_(0)``...

The result is computed out of place, then committed to ``x``:
- no graph records ``x`` (it needs no grad, or grad mode is off): the values are written into its
  storage, so views of it see them, as in torch;
- ``x`` is a non-leaf of a graph: ``x`` takes the result's values and history (torch's rebase of
  ``x``'s grad_fn). Nodes that saved ``x``'s old values keep them, so backward stays right where
  torch would refuse a modified saved tensor. A part of another tensor (a slice, a split) is
  refused by name: crossgrad could not carry the write into the tensor it came from;
- ``x`` is a leaf that requires grad: torch's error.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import _mode, node_class
from .tensor import _KINDS, _TORCH_NAMES, LEAF_INPLACE, Tensor

# torch's in-place forms that record under another grad_fn name than their out-of-place forms
INPLACE_NAMES = {"EluBackward0": "EluBackward1", "LeakyReluBackward0": "LeakyReluBackward1",
                 "UnsqueezeBackward0": "UnsqueezeBackward1", "TransposeBackward0": "TransposeBackward1",
                 "TBackward0": "TBackward1", "SqueezeBackward0": "SqueezeBackward3",
                 "SqueezeBackward1": "SqueezeBackward4"}
PART_INPLACE = ("{op}: crossgrad does not record an in-place op on part of a tensor that is in a graph "
                "(a slice, a split or a select of another tensor); use the out-of-place form")


def part_of_another(data: np.ndarray) -> bool:
    """True when ``data`` views only part of a larger buffer (a slice), not a reshape of a whole one."""
    base = data.base
    return base is not None and getattr(base, "nbytes", data.nbytes) != data.nbytes


def commit(op: str, input: Tensor, out: Tensor) -> Tensor:
    """Make ``input`` hold ``out`` (see the module docstring); returns ``input``."""
    if out is input:
        return input
    if not (_mode.enabled and (input._requires_grad or out.grad_fn is not None)):
        return input._inplace_op(out)
    if input._requires_grad and input.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE)
    if _KINDS.index(out._data.dtype.kind) > _KINDS.index(input._data.dtype.kind):
        raise RuntimeError(f"result type {_TORCH_NAMES[out._data.dtype.name]} can't be cast to the desired output "
                           f"type {_TORCH_NAMES[input._data.dtype.name]}")
    if tuple(out.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: output with shape {list(input.shape)} doesn't match the broadcast shape "
                           f"{list(out.shape)}")
    if part_of_another(input._data):
        raise RuntimeError(PART_INPLACE.format(op=op))
    if out.dtype != input.dtype:  # torch casts inside the in-place op: the grad_fn keeps the op's name
        name = type(out.grad_fn).__name__
        out = out.to(input.dtype)
        out.grad_fn.__class__ = node_class(name)
    _rebase(input, out)
    return input


def _rebase(input: Tensor, out: Tensor) -> None:
    """``input`` takes ``out``'s values and history, under torch's name for the in-place form."""
    input._data, input.grad_fn = out._data, out.grad_fn
    input._requires_grad = input._requires_grad or out.grad_fn is not None
    name = type(out.grad_fn).__name__
    if out.grad_fn is not None and name in INPLACE_NAMES:
        out.grad_fn.__class__ = node_class(INPLACE_NAMES[name])


def honour_inplace(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` (which computes out of place and has an ``inplace`` parameter) with inplace=True honoured."""
    names = list(inspect.signature(fn).parameters)
    at = names.index("inplace")

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        out = fn(*args, **kwargs)
        if not kwargs.get("inplace", len(args) > at and args[at]):
            return out
        return commit(fn.__name__ + "_", args[0] if args else kwargs["input"], out)

    return wrapper


def underscore(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``F.relu_(x, ...)``: ``fn(x, ..., inplace=True)``."""
    def wrapper(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return fn(input, *args, inplace=True, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = fn.__name__ + "_"
    wrapper.__doc__ = f"torch.nn.functional.{fn.__name__}_(input, ...): {fn.__name__} in place."
    return wrapper


# Tensor methods whose out-of-place form crossgrad has: x.exp_() == commit(x, x.exp()).
METHODS = ("abs", "acos", "addcdiv", "addcmul", "asin", "atan", "ceil", "clamp_max", "clamp_min", "cos",
           "cosh", "erf", "exp", "exp2", "expm1", "floor", "floor_divide", "fmod", "frac", "lerp", "log",
           "log10", "log1p", "log2", "nan_to_num", "neg", "pow", "reciprocal", "relu", "remainder",
           "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "tan", "tanh",
           "true_divide", "trunc", "index_fill", "index_add", "scatter", "scatter_add", "masked_scatter")
# View ops whose in-place form changes only x's shape: x takes the view (a leaf that requires grad
# is refused, as torch).
VIEW_METHODS = ("squeeze", "unsqueeze", "transpose", "t")


def _method(name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return commit(name + "_", self, getattr(self, name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"Tensor.{name}_(...): {name} in place."
    return method


def _view_method(name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if _mode.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
        _rebase(self, getattr(self, name)(*args, **kwargs))
        return self

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"Tensor.{name}_(...): {name} in place (the tensor takes the new shape)."
    return method


# In-place methods crossgrad had for tensors outside a graph; inside one (a non-leaf self, or an
# operand that requires grad) they now rebase self as torch records them.
GRAPH_AWARE = {"add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div", "masked_fill_": "masked_fill",
               "clamp_": "clamp", "clip_": "clamp"}


def _graph_aware(name: str, out_of_place: str) -> Callable[..., Tensor]:
    plain = getattr(Tensor, name)

    @functools.wraps(plain)
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if _mode.enabled and (self.grad_fn is not None or _any_needs_grad(args, kwargs)):
            return commit(name, self, getattr(self, out_of_place)(*args, **kwargs))
        return plain(self, *args, **kwargs)

    method.graph_aware = True  # type: ignore[attr-defined]
    return method


def _any_needs_grad(args: tuple, kwargs: dict) -> bool:
    return any(isinstance(a, Tensor) and a._requires_grad for a in (*args, *kwargs.values()))


def install() -> None:
    """Add the missing ``x.op_()`` methods to Tensor (never replacing one crossgrad already has)."""
    for name, out_of_place in GRAPH_AWARE.items():
        if not getattr(getattr(Tensor, name), "graph_aware", False):
            setattr(Tensor, name, _graph_aware(name, out_of_place))
    for name in METHODS:
        if hasattr(Tensor, name) and not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _method(name))
    for name in VIEW_METHODS:
        if hasattr(Tensor, name) and not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _view_method(name))


# Modules built with inplace=True commit their forward's result to the input, as torch's.
MODULES = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "Hardtanh", "SiLU", "Hardswish", "Hardsigmoid", "Mish",
           "Dropout", "Dropout1d", "Dropout2d")


def _module_forward(forward: Callable[..., Tensor]) -> Callable[..., Tensor]:
    @functools.wraps(forward)
    def wrapped(self: Any, input: Tensor) -> Tensor:
        out = forward(self, input)
        return commit(type(self).__name__, input, out) if getattr(self, "inplace", False) else out

    wrapped.honours_inplace = True  # type: ignore[attr-defined]
    return wrapped


def install_modules(nn: Any) -> None:
    """Wrap the forward of ``nn``'s in-place-capable activation and dropout modules (once)."""
    for name in MODULES:
        cls = getattr(nn, name, None)
        if cls is not None and not getattr(cls.forward, "honours_inplace", False):
            cls.forward = _module_forward(cls.forward)
