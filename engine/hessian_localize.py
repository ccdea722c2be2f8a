"""Where an order-2 mismatch comes from: each op node checked alone at order 2.

After an order-2 check finds the numeric witness off, every active op node is cut out with its
forward values as leaves and a seeded random output adjoint g as one more leaf, and
f = sum(op(inputs) * g) is checked at order 2 by the numeric witness (the op's VJP recorded under
create_graph and differentiated again) against finite differences of the op's first-order VJP.
The cross terms d/dg of the input gradients are the VJP itself as recorded, the input blocks its
derivative by the inputs: a wrong double backward shows in one of them. Ties and kinks of the op
are judged by the same order-2 kink tests, so a node on its kink is not named for a convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ops
from .graph import Graph, Leaf, OpNode, Plan, input_indices
from .localize import Culprit
from .numeric.run_graph import forward_values

FLOATS = ("float32", "float64")


@dataclass
class SecondOrderCulprit(Culprit):
    """An op node whose double backward (its VJP under create_graph) is wrong, checked alone."""

    by_adjoint: bool = False  # off in the derivative by the output adjoint (the VJP as recorded)

    def __str__(self) -> str:
        figures = ", ".join(f"{w} {v:.6g}" for w, v in self.values.items())
        what = "by its output adjoint (the VJP as recorded)" if self.by_adjoint else f"for its input {self.input}"
        return (f"node {self.node} ({self.op}, {self.grad_fn}): checked alone at order 2, its double backward is "
                f"off {what} at {list(self.index)} ([direction, element]: {figures}; {self.mismatched}/{self.total}) "
                f"— suspect: numeric's rule for {self.op} under create_graph")


def order2_culprits(plan: Plan, request: Any, grad_fns: dict[str, str]) -> list[Culprit]:
    """The op nodes whose own order-2 check is a mismatch with numeric in the mismatched pair."""
    from .hessian import check_order2

    values = forward_values(plan)
    found: list[Culprit] = []
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        alone = _alone(plan, i, values) if isinstance(node, OpNode) and plan.active[i] else None
        if alone is None:
            continue
        graph, positions = alone
        sub = type(request)(graph, witnesses=("numeric", "finite_difference"), tolerance=request.tolerance,
                            fd_seed=request.fd_seed, order=2)
        with np.errstate(all="ignore"):
            report = check_order2(sub, localize=False)
        assert isinstance(node, OpNode)
        culprit = _named(node, report, positions, grad_fns.get(node.name, ""))
        if culprit is not None:
            found.append(culprit)
    return found


def _alone(plan: Plan, i: int, values: list[np.ndarray]) -> tuple[Graph, dict[str, int]] | None:
    """(the node alone: its inputs as leaves, f = sum(op * g)), leaf name -> input position;
    None when no float input is differentiable or the output is not float."""
    node = plan.graph.nodes[i]
    assert isinstance(node, OpNode)
    if node.no_grad or plan.dtypes[i] not in FLOATS:
        return None
    spec = ops.CATALOGUE[node.op]
    leaves: list[Leaf] = []
    names: list[str] = []
    positions: dict[str, int] = {}
    for k, s in enumerate(input_indices(plan, i)):
        if s is None:
            names.append("")
            continue
        grad = plan.active[s] and plan.dtypes[s] in FLOATS and (k >= len(spec.inputs) or spec.inputs[k].differentiable)
        name = f"input{k}"
        leaves.append(Leaf(name, np.asarray(values[s]).astype(plan.dtypes[s]), grad))
        names.append(name)
        if grad:
            positions[name] = k
    if not positions:
        return None
    g = np.random.default_rng(i).standard_normal(plan.shapes[i]).astype(plan.dtypes[i])
    ops_after = (OpNode("out", node.op, tuple(names), node.attrs), OpNode("weighted", "mul", ("out", "adjoint")),
                 OpNode("f", "sum", ("weighted",)))
    return Graph((*leaves, Leaf("adjoint", g, True), *ops_after), "f"), positions


def _named(node: OpNode, report: Any, positions: dict[str, int], grad_fn: str) -> Culprit | None:
    """The node as a culprit when its own check is a mismatch against numeric (the worst input)."""
    if report.verdict != "mismatch":
        return None
    bad = [(leaf, p) for leaf in report.leaves for p in leaf.pairs if p.verdict == "mismatch" and p.worst_index]
    if not bad:
        return None
    inputs = [(leaf, p) for leaf, p in bad if leaf.name in positions] or bad
    leaf, pair = inputs[0]
    a, b = pair.worst_values or (float("nan"), float("nan"))
    return SecondOrderCulprit(node.name, node.op, grad_fn, positions.get(leaf.name, 0), tuple(pair.worst_index),
                              dict(zip(pair.witnesses, (a, b))), pair.mismatched, pair.total, "numeric",
                              by_adjoint=leaf.name not in positions)
