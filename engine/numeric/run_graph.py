"""Run a validated graph on the numeric engine: the numeric witness, and plain forwards for
finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import Leaf, Plan, input_indices
from . import lean_walk
from .autograd import set_grad_enabled
from .dispatch import apply
from .rules import RULES
from .tensor import Tensor
from .values_only import STAND_INS


def _leaf_tensor(leaf: Leaf) -> Tensor:
    t = Tensor._make(np.array(leaf.value))
    return t.requires_grad_() if leaf.requires_grad else t


def numeric_gradients(plan: Plan, seed: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The engine's own backward: d <output, seed> / d leaf, in each leaf's dtype (by
    lean_walk.py, the same rules without Tensor objects, where that is bit for bit the same)."""
    lean = lean_walk.gradients(plan, seed)
    if lean is not None:
        return lean
    return engine_gradients(plan, seed)


def engine_gradients(plan: Plan, seed: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """``numeric_gradients`` through Tensors and the autograd engine's walk."""
    tensors: list[Tensor] = []
    with set_grad_enabled(True):  # whatever the caller's mode; no_grad nodes switch it off
        for i, node in enumerate(plan.graph.nodes):
            if isinstance(node, Leaf):
                tensors.append(_leaf_tensor(node))
                continue
            inputs = tuple([None if s is None else tensors[s] for s in input_indices(plan, i)])
            if node.no_grad:
                with set_grad_enabled(False):
                    tensors.append(apply(node.op, inputs, plan.attrs[i]))
            else:
                tensors.append(apply(node.op, inputs, plan.attrs[i]))
    out = tensors[plan.output]
    if out.requires_grad:
        out.backward(Tensor._make(np.asarray(seed, dtype=out._data.dtype)))
    grads = {}
    for i in plan.grad_leaves():
        g = tensors[i]._grad
        grads[i] = np.zeros(plan.shapes[i], tensors[i]._data.dtype) if g is None else g._data
    return grads, out._data


def evaluator(plan: Plan) -> Callable[[dict[int, np.ndarray]], list[Any]]:
    """leaf values -> every node's value up to the output (other leaves from the graph),
    forward rules only (or their values-only stand-ins, values_only.py), with the per-node
    lookups done once (finite differences call it often)."""
    steps: list[tuple[int, Any, tuple[int | None, ...], dict]] = []
    constants: dict[int, np.ndarray] = {}
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if isinstance(node, Leaf):
            constants[i] = np.asarray(node.value)
        else:
            fwd = RULES[node.op].forward
            steps.append((i, STAND_INS.get(fwd, fwd), input_indices(plan, i), plan.attrs[i]))

    def run(leaves: dict[int, np.ndarray]) -> list[Any]:
        values: list[Any] = [None] * (plan.output + 1)
        for i, value in constants.items():
            values[i] = leaves.get(i, value)
        with np.errstate(all="ignore"):
            for i, fwd, srcs, attrs in steps:
                values[i] = np.asarray(fwd(tuple([None if s is None else values[s] for s in srcs]), attrs)[0])
        return values

    return run


def forward_program(plan: Plan) -> Callable[[dict[int, np.ndarray]], np.ndarray]:
    """A function leaf values -> the output value."""
    run, output = evaluator(plan), plan.output
    return lambda leaves: np.asarray(run(leaves)[output])


def forward_values(plan: Plan) -> list[np.ndarray]:
    """Every node's value up to the output, float leaves in float64 (used to find kinks)."""
    leaves = {i: np.asarray(n.value, np.float64) for i, n in enumerate(plan.graph.nodes[: plan.output + 1])
              if isinstance(n, Leaf) and np.asarray(n.value).dtype != np.int64}
    return evaluator(plan)(leaves)


def float64_gradients(plan: Plan, seed: np.ndarray,
                      replace: Callable[[int, Any], Callable | None]) -> dict[int, np.ndarray]:
    """The engine's backward in float64 with some nodes' VJPs replaced for this call only:
    ``replace(node position, its grad_fn)`` returns the VJP to use, or None to keep it (the kink
    branches of engine/kinks.py, the sign-scrambled adjoints of engine/magnitudes.py)."""
    tensors: list[Tensor] = []
    with set_grad_enabled(True), np.errstate(all="ignore"):
        for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
            if isinstance(node, Leaf):
                value = np.asarray(node.value)
                t = Tensor._make(value.astype(np.float64) if value.dtype.kind == "f" else value.copy())
                tensors.append(t.requires_grad_() if node.requires_grad else t)
                continue
            inputs = tuple([None if s is None else tensors[s] for s in input_indices(plan, i)])
            with set_grad_enabled(not node.no_grad):
                out = apply(node.op, inputs, plan.attrs[i])
            vjp = None if out.grad_fn is None else replace(i, out.grad_fn)
            if vjp is not None:
                out.grad_fn.vjp = vjp  # type: ignore[union-attr]
            tensors.append(out)
        out = tensors[plan.output]
        if out.requires_grad:
            out.backward(Tensor._make(np.asarray(seed, np.float64)))
    grads = {}
    for i in plan.grad_leaves():
        g = tensors[i]._grad
        grads[i] = np.zeros(plan.shapes[i]) if g is None else g._data
    return grads
