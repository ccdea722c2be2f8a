"""Kinks composed through the graph: the set of gradients every valid convention could give.

At a kink (relu or abs at 0, a maximum/minimum tie) each one-sided local derivative is valid
(PyTorch picks one, SymPy's Heaviside another, finite differences a third). A leaf element's
gradient is then valid when it lies in the hull of the gradients obtained by choosing, at every
kink node, its left or its right branch — the Clarke interval composed through the graph, which
one-sided difference quotients of the whole function miss when kinks stack (``minimum(relu(x),
x)`` at 0: both quotients are 1, yet 0.5 and 0.75 are valid compositions). The branches are run
on the numeric engine, each kink node's VJP replaced by its left or right one for that call only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from .graph import Plan, input_indices
from .numeric.ruletools import unbroadcast
from .numeric.run_graph import float64_gradients

MAX_KINK_NODES = 6  # 2^6 backward passes at most; beyond that only the one-sided quotients count

Vjp = Callable[[np.ndarray, Any, Any], tuple]


def _relu(side: int) -> Vjp:
    return lambda g, saved, node: (g * ((saved[0] > 0) | ((saved[0] == 0) & bool(side))),)


def _abs(side: int) -> Vjp:
    return lambda g, saved, node: (g * np.where(saved[0] == 0, 1.0 if side else -1.0, np.sign(saved[0])),)


def _extreme(wins: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[int], Vjp]:
    """maximum/minimum with a tie sent wholly to input ``side``."""
    def rule(side: int) -> Vjp:
        def vjp(g: np.ndarray, saved: Any, node: Any) -> tuple:
            a, b = saved[0], saved[1]
            to_a = wins(a, b) | ((a == b) & (side == 0))
            ga, gb = g * to_a, g * ~to_a
            return (unbroadcast(ga, node.shapes[0]) if node.needs[0] else None,
                    unbroadcast(gb, node.shapes[1]) if node.needs[1] else None)
        return vjp
    return rule


def _at_zero(inside: Callable[[np.ndarray, dict], np.ndarray], left: Callable[[dict], float]) -> Callable[[int], Vjp]:
    """An activation whose slope jumps at 0: ``inside`` is the slope away from 0, side 0 takes
    ``left(attrs)`` at 0, side 1 the right slope 1."""
    def rule(side: int) -> Vjp:
        return lambda g, saved, node: (g * np.where(saved[0] == 0, 1.0 if side else left(node.attrs),
                                                    inside(saved[0], node.attrs)),)
    return rule


def _bounded(low: str, high: str) -> Callable[[int], Vjp]:
    """clamp/hardtanh: slope 1 strictly inside the bounds, 0 outside; at a bound side 0 takes 0,
    side 1 takes 1."""
    def rule(side: int) -> Vjp:
        def vjp(g: np.ndarray, saved: Any, node: Any) -> tuple:
            x, lo, hi = saved[0], node.attrs[low], node.attrs[high]
            inside = (x > (-np.inf if lo is None else lo)) & (x < (np.inf if hi is None else hi))
            return (g * np.where(_on_bounds(x, lo, hi), float(side), inside),)
        return vjp
    return rule


def _on_bounds(x: np.ndarray, lo: float | None, hi: float | None) -> Any:
    return ((x == lo) if lo is not None else False) | ((x == hi) if hi is not None else False)


def _reduced_dims(x: np.ndarray, at: dict) -> tuple[int, ...]:
    dim = at.get("dim")
    if dim is None:
        return tuple(range(x.ndim))
    return tuple(d % max(x.ndim, 1) for d in ((dim,) if isinstance(dim, int) else dim)) if x.ndim else ()


def _tied(extreme: Callable[..., np.ndarray]) -> Callable[[list[np.ndarray], dict], np.ndarray]:
    """Elements that share the extreme of their reduced group with another element (a tie)."""
    def tied(ins: list[np.ndarray], at: dict) -> np.ndarray:
        x = ins[0]
        dims = _reduced_dims(x, at)
        hit = x == extreme(x, axis=dims, keepdims=True)
        return hit & (np.sum(hit, axis=dims, keepdims=True) > 1)
    return tied


def _reduction_ties(extreme: Callable[..., np.ndarray]) -> Callable[[int], Vjp]:
    """max/min/amax/amin at a tie: every tied element gets ``side`` times the gradient (0 or 1: the
    per-element bounds of every way to share it); an untied extreme gets all of it."""
    tied_at = _tied(extreme)

    def rule(side: int) -> Vjp:
        def vjp(g: np.ndarray, saved: Any, node: Any) -> tuple:
            x = saved[0]
            dims = _reduced_dims(x, node.attrs)
            if not node.attrs.get("keepdim") and dims:
                g = np.expand_dims(g, dims)
            hit = x == extreme(x, axis=dims, keepdims=True)
            return (g * np.where(tied_at([x], node.attrs), float(side), hit),)
        return vjp
    return rule


BRANCHES: dict[str, Callable[[int], Vjp]] = {
    **{op: _reduction_ties(np.max) for op in ("amax", "max_all", "max_dim")},
    **{op: _reduction_ties(np.min) for op in ("amin", "min_all", "min_dim")},
    "relu": _relu, "abs": _abs,
    "maximum": _extreme(lambda a, b: a > b), "minimum": _extreme(lambda a, b: a < b),
    "leaky_relu": _at_zero(lambda x, at: np.where(x > 0, 1.0, at["negative_slope"]), lambda at: at["negative_slope"]),
    "elu": _at_zero(lambda x, at: np.where(x > 0, 1.0, at["alpha"] * np.exp(np.minimum(x, 0))), lambda at: at["alpha"]),
    "clamp": _bounded("min", "max"), "hardtanh": _bounded("min_val", "max_val"),
}

# op -> (its input values, attributes) -> which elements sit exactly on a kink
KINK_AT: dict[str, Callable[[list[np.ndarray], dict], Any]] = {
    **{op: _tied(np.max) for op in ("amax", "max_all", "max_dim")},
    **{op: _tied(np.min) for op in ("amin", "min_all", "min_dim")},
    "relu": lambda ins, at: ins[0] == 0, "abs": lambda ins, at: ins[0] == 0,
    "leaky_relu": lambda ins, at: ins[0] == 0, "elu": lambda ins, at: ins[0] == 0,
    "maximum": lambda ins, at: ins[0] == ins[1], "minimum": lambda ins, at: ins[0] == ins[1],
    "clamp": lambda ins, at: _on_bounds(ins[0], at["min"], at["max"]),
    "hardtanh": lambda ins, at: _on_bounds(ins[0], at["min_val"], at["max_val"]),
}


from .numeric import pool_kinks  # noqa: E402 (max pooling's tie, registered here)

BRANCHES.update({op: pool_kinks.branch(op) for op in pool_kinks.TIE_OPS})


def _pool_tie(op: str) -> Callable[[list[np.ndarray], dict], Any]:
    return lambda ins, at: pool_kinks.has_tie(op, ins[0], at)


KINK_AT.update({op: _pool_tie(op) for op in pool_kinks.TIE_OPS})


def on_kink(op: str, ins: list[np.ndarray], attrs: dict) -> bool:
    """Whether some element of this op's inputs sits exactly on its kink."""
    return op in KINK_AT and bool(np.any(KINK_AT[op](ins, attrs)))


def at_kink(plan: Plan, values: list[np.ndarray]) -> list[tuple[int, str]]:
    """Active kink nodes (position, op) with some element exactly on its kink."""
    found = []
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        op = getattr(node, "op", None)
        if op not in BRANCHES or not plan.active[i]:
            continue
        ins = [values[s] for s in input_indices(plan, i) if s is not None]
        if on_kink(op, ins, plan.attrs[i]):
            found.append((i, op))
    return found


def _choose(branch: dict[int, Vjp]) -> Callable[[int, Any], Vjp | None]:
    return lambda position, node: branch.get(position)


def hulls(plan: Plan, seed: np.ndarray, values: list[np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """Per differentiable leaf, elementwise (lowest, highest) gradient over every choice of branch
    at the kink nodes (float64); None when no kink node sits on its kink, or too many do."""
    nodes = at_kink(plan, values)
    if not nodes or len(nodes) > MAX_KINK_NODES:
        return None
    lo: dict[int, np.ndarray] = {}
    hi: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for sides in itertools.product((0, 1), repeat=len(nodes)):
            branch: dict[int, Vjp] = {i: BRANCHES[op](side) for (i, op), side in zip(nodes, sides)}
            for leaf, g in float64_gradients(plan, seed, _choose(branch)).items():
                lo[leaf] = g if leaf not in lo else np.minimum(lo[leaf], g)
                hi[leaf] = g if leaf not in hi else np.maximum(hi[leaf], g)
    return {leaf: (lo[leaf], hi[leaf]) for leaf in lo}



from .numeric import loss_kinks  # noqa: E402 (the smooth losses' bound, a kink at order 2)

BRANCHES.update({op: loss_kinks.branch(op) for op in loss_kinks.BOUND})
KINK_AT.update({op: loss_kinks.on_bound(op) for op in loss_kinks.BOUND})

from .everyday_kinks import register as _register_everyday  # noqa: E402 (hardswish, hardsigmoid at +-3)

_register_everyday(BRANCHES, KINK_AT)
