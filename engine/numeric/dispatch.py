"""``apply``: run one catalogue op on tensors and, when grad mode asks for it, record a Node."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import ops
from .autograd import AccumulateGrad, _mode, node_class
from .dim_check import DIM_OPS
from .dim_check import check as check_dims
from .rules import RULES

if TYPE_CHECKING:
    from .tensor import Tensor

# Ops whose contract numpy would not enforce (or would enforce with a confusing message):
# their shape rule runs before the forward. The others run it only when numpy objects.
_VALIDATE_FIRST = frozenset({"binary_cross_entropy_with_logits", "cross_entropy", "mse_loss",
                             "select", "slice", "cat", "stack", "expand", "repeat", "gather",
                             "embedding", "layer_norm", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                             "binary_cross_entropy", "nll_loss", "masked_fill"})
_FIXED_NODE = {name: node_class(spec.grad_fn) for name, spec in ops.CATALOGUE.items()
               if isinstance(spec.grad_fn, str)}

_tensor_cls: Any = None
_NO_EDGE = (None, 0)


def bind_tensor(cls: type) -> None:
    """Called once by tensor.py, which imports this module (avoids an import cycle)."""
    global _tensor_cls
    _tensor_cls = cls


def _check_shapes(op: str, xs: tuple, attrs: dict) -> None:
    shapes = tuple(None if x is None else x.shape for x in xs)
    ops.CATALOGUE[op].out_shape(shapes, attrs)


def _resave(saved: Any, old: Any, new: np.ndarray) -> Any:
    """``saved`` with the forward's scalar result replaced by its array (identity matters to
    create_graph, which substitutes the live output for it)."""
    if saved is old:
        return new
    if type(saved) is tuple:
        return tuple([new if s is old else s for s in saved])
    return saved


def edge(t: Tensor) -> tuple[Any, int]:
    """The (node, 0) pair backward follows to reach ``t``."""
    if t.grad_fn is not None:
        return (t.grad_fn, 0)
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return (acc, 0)


def apply(op: str, inputs: tuple[Any, ...], attrs: dict) -> Tensor:
    """Forward ``op``; record a grad_fn if grad mode is on and an input requires grad.
    One and two inputs are unrolled (no comprehension frames): this is every op's fixed cost."""
    rule = RULES[op]
    n = len(inputs)
    if n == 2:
        a, b = inputs
        xs: tuple = (None if a is None else a._data, None if b is None else b._data)
    elif n == 1:
        a = inputs[0]
        xs = (None if a is None else a._data,)
    else:
        xs = tuple([None if t is None else t._data for t in inputs])
    if op in DIM_OPS:
        check_dims(op, xs, attrs)
    if op in _VALIDATE_FIRST:
        _check_shapes(op, xs, attrs)
    try:
        out, saved = rule.forward(xs, attrs)
    except (ValueError, IndexError, TypeError):
        _check_shapes(op, xs, attrs)  # raises a ShapeError naming the op, if shapes are at fault
        raise
    if type(out) is not np.ndarray:  # a numpy scalar (0-d result): saved must hold the array
        out, scalar = np.asarray(out), out
        saved = _resave(saved, scalar, out)
    if n == 2:
        needs: tuple = (a is not None and a._requires_grad, b is not None and b._requires_grad)
    elif n == 1:
        needs = (a is not None and a._requires_grad,)
    else:
        needs = tuple([t is not None and t._requires_grad for t in inputs])
    if not _mode.enabled or True not in needs or op == "detach":
        return _tensor_cls._make(out)
    node = _record(op, rule, inputs, xs, needs, saved, attrs, out)
    return _tensor_cls._make(out, node)


def _record(op: str, rule: Any, inputs: tuple, xs: tuple, needs: tuple, saved: Any, attrs: dict,
            out: np.ndarray) -> Any:
    """The grad_fn Node of one op application."""
    if len(xs) == 2:
        x0, x1 = xs
        n0, n1 = needs
        shapes: tuple = (None if x0 is None else x0.shape, None if x1 is None else x1.shape)
        nexts: tuple = (edge(inputs[0]) if n0 else _NO_EDGE, edge(inputs[1]) if n1 else _NO_EDGE)
        consts: tuple = (None if n0 else x0, None if n1 else x1)
    else:
        shapes = tuple([None if x is None else x.shape for x in xs])
        nexts = tuple([edge(t) if need else _NO_EDGE for t, need in zip(inputs, needs)])
        consts = tuple([None if need else x for x, need in zip(xs, needs)])
    cls = _FIXED_NODE.get(op) or node_class(ops.CATALOGUE[op].grad_fn_name(shapes, attrs) or "")
    node = cls(op, rule.vjp, saved, shapes, attrs, needs, nexts, consts)
    if saved is not None:  # what create_graph substitutes for the saved arrays
        node.inputs, node.out = inputs, out
    return node
