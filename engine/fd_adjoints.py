"""Finite differences as a witness of adjoints at op nodes (issue 15): a node's output is made
a leaf holding its forward value (the rest of the graph unchanged, every other leaf constant)
and perturbed, running only the graph downstream of it — batched as the leaf witness is, per
element for small nodes, along seeded random sign directions for large ones.

Used to localize when the symbolic witness did not run (tier off, or not covered): a node whose
output adjoint agrees between numeric and finite differences while the adjoint it sends to an
input does not is where the error enters. Finite differences of a node's output give its total
adjoint; when that input is read by several nodes, it is perturbed once more per reading node,
as that node alone sees it (a new leaf on that one edge), to get what that node should send.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import finite_diff
from .compare import PairComparison, compare
from .graph import Graph, Leaf, OpNode, Plan, input_indices, validate
from .localize import Adjoints, Culprit, kinked
from .numeric.run_graph import forward_values
from .tolerance import Tolerance, policy

PAIR = ("numeric", "finite_difference")
PER_ELEMENT = 64  # nodes up to this many elements are perturbed element by element, larger along directions
ERROR_FACTOR = 3.0  # a per-element difference within this many of the quotient's own error estimate is no evidence
Where = tuple[int, int, tuple[int, ...], float, float, str]  # mismatched, total, worst index, numeric, fd, unit


@dataclass
class NodeDifferences:
    """One node's finite differences: per element, or projections along sign directions."""

    fd: finite_diff.FiniteDifferences
    leaf: int  # the perturbed leaf's position in the cut plan
    plan: Plan  # the cut plan
    seed: np.ndarray

    def judge(self, numeric: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """(numeric, finite differences) in comparable units, and the unit."""
        if self.fd.mode == "per_element":
            return np.asarray(numeric, np.float64), self.fd.grads[self.leaf], "elements"
        return self.fd.project(self.leaf, numeric), self.fd.slopes[self.leaf], "directions"


def _constants(graph: Graph) -> list:
    return [replace(n, requires_grad=False) if isinstance(n, Leaf) else n for n in graph.nodes]


def _cut(graph: Graph, at: int, value: np.ndarray) -> tuple[Graph, int]:
    """The graph with node ``at`` a leaf holding ``value`` that alone requires grad."""
    nodes = _constants(graph)
    nodes[at] = Leaf(graph.nodes[at].name, value, True)
    return Graph(tuple(nodes), graph.output), at


def _cut_edge(graph: Graph, at: int, pos: int, value: np.ndarray) -> tuple[Graph, int]:
    """The graph with input ``pos`` of node ``at`` read from a new leaf holding ``value`` that
    alone requires grad: perturbing it moves that input as this node sees it, nowhere else."""
    nodes = _constants(graph)
    node = nodes[at]
    assert isinstance(node, OpNode)
    edge = f"{node.inputs[pos]}__into_{node.name}_{pos}"
    nodes[at] = replace(node, inputs=tuple(edge if k == pos else s for k, s in enumerate(node.inputs)))
    nodes.insert(at, Leaf(edge, value, True))
    return Graph(tuple(nodes), graph.output), at


def _differences(cut: tuple[Graph, int], seed: np.ndarray, rng_seed: int) -> NodeDifferences:
    plan = validate(cut[0])
    return NodeDifferences(finite_diff.finite_differences(plan, seed, rng_seed, PER_ELEMENT), cut[1], plan, seed)


def _value(plan: Plan, values: list, i: int) -> np.ndarray:
    """Node ``i``'s forward value in its own dtype."""
    node = plan.graph.nodes[i]
    return np.asarray(node.value if isinstance(node, Leaf) else values[i]).astype(plan.dtypes[i])


def _off(diffs: NodeDifferences, numeric: np.ndarray, dtype: str, tol: Tolerance | None,
         scale: float) -> Where | None:
    """Where numeric and finite differences disagree, or None."""
    a, b, unit = diffs.judge(numeric)
    result = compare(PAIR, a, b, "float64", policy(dtype, PAIR, tol), unit=unit, seed_scale=scale)
    if result.mismatched and unit == "elements":
        result = _reliable(diffs, result, a, b)
    if not result.mismatched or result.worst_index is None or result.worst_values is None:
        return None
    return (result.mismatched, result.total, tuple(result.worst_index), result.worst_values[0],
            result.worst_values[1], unit)


def _reliable(diffs: NodeDifferences, result: PairComparison, a: np.ndarray, b: np.ndarray) -> PairComparison:
    """The comparison without elements whose difference the quotients' own error explains (a
    kink within the step downstream, rounding): those are no evidence against numeric."""
    where = list(result.mismatched_indices)
    error = finite_diff.error_estimates(diffs.plan, diffs.seed, diffs.leaf, where, np.array([b[i] for i in where]))
    kept = [i for i, e in zip(where, error) if abs(a[i] - b[i]) > ERROR_FACTOR * e]
    if not kept:
        return replace(result, mismatched=0)
    worst = max(kept, key=lambda i: abs(a[i] - b[i]))
    return replace(result, mismatched=len(kept), worst_index=worst, worst_values=(float(a[worst]), float(b[worst])))


def _totals(plan: Plan, numeric: Adjoints) -> dict[int, np.ndarray]:
    """Numeric's total adjoint at every node: its own record, or the sum of what its consumers sent."""
    totals = {i: out for i, (out, _) in numeric.items()}
    for i, (_, sent) in numeric.items():
        for src, adj in zip(input_indices(plan, i), sent):
            if src is not None and adj is not None and src not in numeric:
                totals[src] = adj if src not in totals else totals[src] + adj
    return totals


def culprits(plan: Plan, seed: np.ndarray, numeric: Adjoints, grad_fns: dict[str, str], rng_seed: int,
             tol: Tolerance | None) -> list[Culprit]:
    """Nodes whose output adjoint agrees with finite differences while an input's does not."""
    totals, values = _totals(plan, numeric), forward_values(plan)
    floats = [i for i in sorted(totals) if plan.dtypes[i] in ("float32", "float64") and plan.active[i]]
    scale = float(np.abs(seed).max(initial=0.0))

    def judged(cut: tuple[Graph, int], numeric_value: np.ndarray, dtype: str) -> Where | None:
        return _off(_differences(cut, seed, rng_seed), numeric_value, dtype, tol, scale)

    off = {i: judged(_cut(plan.graph, i, _value(plan, values, i)), totals[i], plan.dtypes[i]) for i in floats}
    readers: dict[int, list[tuple[int, int]]] = {}
    for i, (_, sent) in numeric.items():
        for pos, src in enumerate(input_indices(plan, i)):
            if src is not None and src in off and pos < len(sent) and sent[pos] is not None:
                readers.setdefault(src, []).append((i, pos))
    found, skip = [], kinked(plan, values)
    for src in sorted((s for s in off if off[s] is not None), reverse=True):
        for i, pos in [(i, pos) for i, pos in readers.get(src, []) if off.get(i) is None and i not in skip]:
            sent = numeric[i][1][pos]
            assert sent is not None
            where = off[src] if len(readers[src]) == 1 else \
                judged(_cut_edge(plan.graph, i, pos, _value(plan, values, src)), sent, plan.dtypes[src])
            if where is not None:
                found.append(_culprit(plan, i, pos, where, grad_fns))
    return found


def _culprit(plan: Plan, i: int, pos: int, where: Where, grad_fns: dict[str, str]) -> Culprit:
    mismatched, total, index, a, b, unit = where
    node = plan.graph.nodes[i]
    assert isinstance(node, OpNode)
    return Culprit(node.name, node.op, grad_fns.get(node.name, ""), pos, index,
                   {"numeric": a, "finite_difference": b}, mismatched, total, "numeric", unit=unit)
