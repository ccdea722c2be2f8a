"""The numeric witness's first-order pass without Tensor objects, bit for bit the engine's.

``run_graph.numeric_gradients`` builds a Tensor per node and lets the autograd engine walk its
recorded Nodes; on a small graph that machinery, not the arithmetic, is the cost. Here the same
forward rules and hand-written VJPs (looked up in ``RULES`` at call time) run in the graph's
order and its reverse, with a Node per recorded op as ``dispatch.apply`` builds it. The values
are the engine's exactly where the order of the engine's walk cannot matter: no value receives
more than two gradients (two-term sums do not depend on the order), no detach or no_grad node
(the engine switches grad mode there), no VJP the engine adds into a pending sum in place
(``autograd.ADDS_INTO``). Other plans, and any error (the engine then raises its own), return
None: the caller runs the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import plan_facts
from ..graph import Leaf, Plan
from .autograd import ADDS_INTO, Node
from .dim_check import DIM_OPS
from .dim_check import check as check_dims
from .dispatch import _VALIDATE_FIRST, _check_shapes, _resave
from .rules import RULES


def supported(plan: Plan) -> bool:
    """Whether the plan's structure allows the lean pass (see the module doc); once per structure."""
    return bool(plan_facts.memo(plan, "lean numeric walk", _supported))


def _supported(plan: Plan) -> bool:
    received: dict[int, int] = {}
    for i, node in enumerate(plan.graph.nodes):
        if isinstance(node, Leaf):
            continue
        if node.no_grad or node.op == "detach" or RULES[node.op].vjp in ADDS_INTO:
            return False
        for s in plan.sources[i]:
            if s is not None:
                received[s] = received.get(s, 0) + 1
    return max(received.values(), default=0) <= 2


def gradients(plan: Plan, seed: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray] | None:
    """``numeric_gradients(plan, seed)``'s answer, or None when the engine must give it."""
    if not supported(plan):
        return None
    try:
        values, requires, records = _forward(plan)
        return _backward(plan, seed, values, requires, records)
    except Exception:  # noqa: BLE001 - the engine runs it again and fails its own way
        return None


def _forward(plan: Plan) -> tuple[list[Any], list[bool], list[Node | None]]:
    """Every node's value, whether it requires grad, and its recorded Node (dispatch.apply's)."""
    nodes = plan.graph.nodes
    values: list[Any] = [None] * len(nodes)
    requires = [False] * len(nodes)
    records: list[Node | None] = [None] * len(nodes)
    for i, node in enumerate(nodes):
        if isinstance(node, Leaf):
            values[i], requires[i] = np.array(node.value), node.requires_grad
            continue
        op, attrs, srcs = node.op, plan.attrs[i], plan.sources[i]
        rule = RULES[op]
        xs = tuple([None if s is None else values[s] for s in srcs])
        if op in DIM_OPS:
            check_dims(op, xs, attrs)
        if op in _VALIDATE_FIRST:
            _check_shapes(op, xs, attrs)
        out, saved = rule.forward(xs, attrs)
        if type(out) is not np.ndarray:
            out, scalar = np.asarray(out), out
            saved = _resave(saved, scalar, out)
        values[i] = out
        needs = tuple([s is not None and requires[s] for s in srcs])
        if True in needs:
            requires[i] = True
            records[i] = Node(op, rule.vjp, saved, tuple([None if x is None else x.shape for x in xs]), attrs,
                              needs, ())
    return values, requires, records


def _backward(plan: Plan, seed: np.ndarray, values: list[Any], requires: list[bool],
              records: list[Node | None]) -> tuple[dict[int, np.ndarray], np.ndarray] | None:
    out = plan.output
    pending: list[Any] = [None] * len(values)
    if requires[out]:
        root = np.array(seed, dtype=values[out].dtype)
        if root.shape != values[out].shape:
            return None
        pending[out] = root
    for i in range(out, -1, -1):
        g, record = pending[i], records[i]
        if g is None or record is None:
            continue
        for s, need, gi in zip(plan.sources[i], record.needs, record.vjp(g, record.saved, record)):
            if need and gi is not None:
                prev = pending[s]  # type: ignore[index]
                pending[s] = gi if prev is None else prev + gi  # type: ignore[index]
    grads: dict[int, np.ndarray] = {}
    kept: set[int] = set()
    for i in plan.grad_leaves():
        g, dtype = pending[i], values[i].dtype
        if g is None:
            grads[i] = np.zeros(plan.shapes[i], dtype)
            continue
        if type(g) is not np.ndarray:
            return None
        if g.base is not None or not g.flags.writeable or id(g) in kept:  # autograd._store's copy
            g = g.copy()
        kept.add(id(g))
        grads[i] = g if g.dtype == dtype else g.astype(dtype)
    return grads, values[out]
