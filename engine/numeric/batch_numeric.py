"""The numeric witness of many requests of one structure at once (a stream's batch).

Every leaf is stacked on a leading axis (copy b is request b), every node's value keeps that
axis, and each op runs its own forward rule and hand-written VJP from rules.py once for the
whole stack: elementwise ops on inputs lifted to a common rank (the batch axis first, so
broadcasting and the VJPs' unbroadcast never mix requests), matmul on operands lifted to
stacked matrices, reductions and softmax with their dims shifted past the batch axis, losses
with their reduction done per copy (the VJP gets the same upstream ``g / count`` the unbatched
rule computes). The arithmetic per copy is the unbatched rule's, so the gradients equal the
one-by-one numeric witness's (tests/test_batch_check.py compares them bit for bit).

``supported(plan)`` says whether a structure can run here: every op has a batch kind below, no
detach or no_grad, and no value receives more than two gradients (the engine sums them in its
own walk order, and two-term sums do not depend on it). Others run one by one.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from ..graph import Leaf, OpNode, Plan, input_indices
from .rules import RULES, reduced_dims
from .ruletools import unbroadcast

ELEMENTWISE = ("add", "sub", "mul", "div", "maximum", "minimum", "pow_tensor", "pow", "neg", "exp", "log",
               "sqrt", "tanh", "sigmoid", "relu", "abs", "softplus", "sin", "cos", "erf", "log1p", "expm1",
               "reciprocal", "rsqrt", "square", "silu", "gelu", "leaky_relu", "elu")
KIND: dict[str, str] = {**dict.fromkeys(ELEMENTWISE, "elementwise"), "matmul": "matmul", "sum": "reduce",
                        "mean": "reduce", "reshape": "reshape", "flatten": "reshape", "softmax": "along",
                        "log_softmax": "along", "transpose": "dims", "permute": "dims",
                        "binary_cross_entropy_with_logits": "loss", "mse_loss": "loss"}
_LOSS_REDUCTIONS = ("none", "sum", "mean")


class _Node:
    """What a VJP reads of its recorded node, for the lifted (batched) shapes."""

    __slots__ = ("shapes", "needs", "attrs")

    def __init__(self, shapes: tuple, needs: tuple, attrs: dict) -> None:
        self.shapes, self.needs, self.attrs = shapes, needs, attrs


_SUPPORTED: OrderedDict[str, bool] = OrderedDict()


def supported(plan: Plan) -> bool:
    """Whether ``plan``'s numeric witness can run batched here (see the module doc); cached."""
    key = plan.structure_hash
    if key not in _SUPPORTED:
        _SUPPORTED[key] = _supported(plan)
        if len(_SUPPORTED) > 1024:
            _SUPPORTED.popitem(last=False)
    return _SUPPORTED[key]


def _supported(plan: Plan) -> bool:
    received: dict[int, int] = {}
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if isinstance(node, Leaf):
            continue
        kind = KIND.get(node.op)
        if kind is None or node.no_grad or not plan.active[i]:
            return False
        if kind in ("along", "dims") and not plan.shapes[input_indices(plan, i)[0]]:  # type: ignore[index]
            return False
        if kind == "loss" and plan.attrs[i].get("reduction") not in _LOSS_REDUCTIONS:
            return False
        for s in input_indices(plan, i):
            if s is not None:
                received[s] = received.get(s, 0) + 1
    return max(received.values(), default=0) <= 2


def gradients(plan: Plan, leaves: dict[int, np.ndarray], seeds: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """d <output_b, seed_b> / d leaf for every copy b: ({grad leaf: (B, *shape)}, outputs (B, *out)).
    ``leaves``: every leaf's stack (B, *shape) in its dtype; ``seeds``: (B, *output shape)."""
    count = len(seeds)
    values: dict[int, np.ndarray] = dict(leaves)
    records: dict[int, tuple[Any, _Node, str]] = {}
    needs_grad = {i: bool(n.requires_grad) for i, n in enumerate(plan.graph.nodes) if isinstance(n, Leaf)}
    with np.errstate(all="ignore"):
        for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
            if isinstance(node, OpNode):
                srcs = input_indices(plan, i)
                needs = tuple(s is not None and needs_grad[s] for s in srcs)
                needs_grad[i] = any(needs)
                values[i], records[i] = _forward(plan, i, [None if s is None else values[s] for s in srcs], needs)
        out = values[plan.output]
        grads = _backward(plan, records, np.asarray(seeds).astype(out.dtype, copy=False), needs_grad) \
            if needs_grad[plan.output] else {}
    found = {}
    for leaf in plan.grad_leaves():
        g = grads.get(leaf)
        found[leaf] = np.zeros((count,) + plan.shapes[leaf], values[leaf].dtype) if g is None else g
    return found, out


def _lift(x: np.ndarray, shape: tuple, rank: int) -> np.ndarray:
    return x.reshape((x.shape[0],) + (1,) * (rank - len(shape)) + tuple(shape))


def _forward(plan: Plan, i: int, xs: list, needs: tuple) -> tuple[np.ndarray, tuple[Any, _Node, str]]:
    """Node ``i``'s batched value and what its VJP needs: (saved, node view, kind)."""
    op = plan.graph.nodes[i].op  # type: ignore[union-attr]
    kind, at, out_shape = KIND[op], plan.attrs[i], plan.shapes[i]
    shapes: list[Any] = [None if s is None else plan.shapes[s] for s in input_indices(plan, i)]
    count = len(next(x for x in xs if x is not None))
    if kind == "reshape":
        return xs[0].reshape((count,) + out_shape), (None, _Node((), needs, at), kind)
    if kind in ("reduce", "along", "dims"):
        at = _shifted(kind, at, len(shapes[0]))
        lifted = [xs[0]]
    else:
        rank = max([len(out_shape), 2 if kind == "matmul" else 0] + [len(s) for s in shapes if s is not None])
        lifted = [None if x is None else _lift_operand(kind, x, s, rank, p) for p, (x, s) in enumerate(zip(xs, shapes))]
    if kind == "loss":
        value, saved = RULES[op].forward(tuple(lifted), {**at, "reduction": "none"})
        value = _reduce_copies(value, at["reduction"])
    else:
        value, saved = RULES[op].forward(tuple(lifted), at)
    node = _Node(tuple(None if x is None else x.shape for x in lifted), needs, at)
    return np.asarray(value).reshape((count,) + out_shape), (saved, node, kind)


def _lift_operand(kind: str, x: np.ndarray, shape: tuple, rank: int, position: int) -> np.ndarray:
    """An operand at ``rank`` (+ the batch axis); matmul's vectors become a row (the first
    operand) or a column (the second) first, as numpy's matmul promotes them."""
    if kind == "matmul" and len(shape) == 1:
        shape = (1,) + shape if position == 0 else shape + (1,)
    return _lift(x, shape, rank)


def _shifted(kind: str, at: dict, ndim: int) -> dict:
    if kind == "along":
        return {**at, "dim": at["dim"] % ndim + 1}
    if kind == "dims" and "dims" in at:
        return {**at, "dims": (0,) + tuple(d % ndim + 1 for d in at["dims"])}
    if kind == "dims":
        return {**at, "dim0": at["dim0"] % ndim + 1, "dim1": at["dim1"] % ndim + 1}
    return {**at, "dim": tuple(d + 1 for d in reduced_dims(at["dim"], ndim))}


def _reduce_copies(loss: np.ndarray, reduction: str) -> np.ndarray:
    """A loss op's per-copy reduction, as losses._reduce does for one copy."""
    if reduction == "none":
        return loss
    total = loss.reshape(len(loss), -1).sum(axis=1)
    if reduction == "sum":
        return total
    return np.asarray(total / math.prod(loss.shape[1:]), dtype=loss.dtype)


def _backward(plan: Plan, records: dict, seeds: np.ndarray, needs_grad: dict[int, bool]) -> dict[int, np.ndarray]:
    """Reverse node order (a topological order); each value receives at most two gradients."""
    pending: dict[int, np.ndarray] = {plan.output: seeds}
    for i in range(plan.output, -1, -1):
        g = pending.pop(i, None)
        if i not in records or g is None:
            if g is not None:
                pending[i] = g  # a leaf's gradient, collected below
            continue
        saved, node, kind = records[i]
        srcs = input_indices(plan, i)
        for s, grad in zip(srcs, _vjp(plan, i, g, saved, node, kind)):
            if s is None or grad is None or not needs_grad[s]:
                continue
            grad = grad.reshape((len(g),) + plan.shapes[s])
            pending[s] = grad if s not in pending else pending[s] + grad
    return pending


def _vjp(plan: Plan, i: int, g: np.ndarray, saved: Any, node: _Node, kind: str) -> tuple:
    op = plan.graph.nodes[i].op  # type: ignore[union-attr]
    srcs = input_indices(plan, i)
    if kind == "reshape":
        return (g,)
    if kind == "loss" and node.attrs["reduction"] != "none":
        g = _upstream(op, g, node, plan, srcs)
        node = _Node(node.shapes, node.needs, {**node.attrs, "reduction": "none"})
    elif kind in ("elementwise", "matmul", "loss"):
        g = g.reshape(_out_lifted(node, kind, g))
    grads = RULES[op].vjp(g, saved, node)
    return tuple(None if x is None else x if x.shape == shape else unbroadcast(x, shape)
                 for x, shape in zip(grads, node.shapes))


def _out_lifted(node: _Node, kind: str, g: np.ndarray) -> tuple:
    """The shape of the output the lifted forward made (g arrives as (B, *output shape))."""
    shapes = [s for s in node.shapes if s is not None]
    if kind == "matmul":
        a, b = shapes
        return np.broadcast_shapes(a[:-2], b[:-2]) + (a[-2], b[-1])
    return np.broadcast_shapes(*shapes)


def _upstream(op: str, g: np.ndarray, node: _Node, plan: Plan, srcs: tuple) -> np.ndarray:
    """A reduced loss's gradient per element: g, or g / count for 'mean' with the unbatched rule's
    count (bce: the input's size, mse: the broadcast difference's)."""
    shapes = [s for s in node.shapes[:2] if s is not None]
    full = np.broadcast_shapes(*shapes)
    lifted = g.reshape((len(g),) + (1,) * (len(full) - 1))
    if node.attrs["reduction"] != "mean":
        return lifted
    count = math.prod(plan.shapes[srcs[0]]) if op == "binary_cross_entropy_with_logits" else math.prod(full[1:])
    return lifted / count

KIND.update(dict.fromkeys(("atan2", "hardswish", "hardsigmoid", "mish"), "elementwise"))  # the everyday-ops sweep
