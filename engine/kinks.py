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


BRANCHES: dict[str, Callable[[int], Vjp]] = {
    "relu": _relu, "abs": _abs,
    "maximum": _extreme(lambda a, b: a > b), "minimum": _extreme(lambda a, b: a < b),
}


def at_kink(plan: Plan, values: list[np.ndarray]) -> list[tuple[int, str]]:
    """Active kink nodes (position, op) with some element exactly on its kink."""
    found = []
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        op = getattr(node, "op", None)
        if op not in BRANCHES or not plan.active[i]:
            continue
        ins = [values[s] for s in input_indices(plan, i) if s is not None]
        if (len(ins) == 1 and (ins[0] == 0).any()) or (len(ins) == 2 and (ins[0] == ins[1]).any()):
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

