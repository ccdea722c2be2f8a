"""Intermediate gradients in assignments (issue 15): a problem's expression names stages
(``"z = x @ w1 + b1; h = relu(z); mse_loss(h @ w2, y)"``) and its ``gradients`` may ask for
dL/dz as well as for leaves. The references of stages are the exact tier's adjoints at those
op nodes, cross-checked against the numeric engine's; when a student's answers are wrong the
feedback names the first wrong stage: the wrong one nearest the loss in backward order whose
asked downstream adjoints are right, so the mistake is in the backward step just before it.
"""

from __future__ import annotations

import re

import numpy as np
from crossgrad.engine.compare import compare
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.localize import numeric_adjoints
from crossgrad.engine.symbolic import exact, tensor_adjoints
from crossgrad.engine.symbolic.exact_adjoints import node_adjoints
from crossgrad.engine.tolerance import Tolerance

from .answers import Answer
from .assignment import Problem, Trial, graph_for
from .assignment import stage_names as assignment_stages

AGREE = 1e-8  # relative: the symbolic and numeric references of a stage, both float64
EXACT_WORK = 2_000_000  # above this many element evaluations the tensor tier gives the reference


def stage_names(graph: Graph, asked: tuple[str, ...]) -> list[str]:
    """The asked names that are op nodes (stages), not leaves."""
    ops = {n.name for n in graph.nodes if isinstance(n, OpNode)}
    return [n for n in asked if n in ops]


def references(graph: Graph, names: list[str]) -> dict[str, np.ndarray] | str:
    """d loss / d stage for each named stage, or why the reference cannot be trusted."""
    plan = validate(graph)
    seed = np.ones(plan.shapes[plan.output])
    where = {graph.nodes[i].name: i for i in range(len(graph.nodes))}
    symbolic = node_adjoints(plan, seed) if exact.estimate_work(plan) <= EXACT_WORK else \
        tensor_adjoints.node_adjoints(plan, seed)
    numeric = numeric_adjoints(plan, seed)
    out = {}
    for name in names:
        i = where[name]
        if i not in symbolic:
            return f"no gradient flows to stage `{name}` (does a leaf before it require grad?)"
        ref, other = symbolic[i][0], numeric.get(i, (np.zeros(plan.shapes[i]), []))[0]
        scale = float(np.abs(ref).max(initial=0.0))
        if not np.allclose(ref, other, rtol=AGREE, atol=AGREE * scale):
            return f"the stage `{name}`'s symbolic and numeric adjoints disagree"
        out[name] = ref
    return out


def _descendants(graph: Graph) -> dict[str, set[str]]:
    """Per node, every node its value flows into."""
    down: dict[str, set[str]] = {n.name: set() for n in graph.nodes}
    for node in reversed(graph.nodes):
        if isinstance(node, OpNode):
            for src in node.inputs:
                if src:
                    down[src] |= {node.name} | down[node.name]
    return down


def _order(graph: Graph) -> dict[str, float]:
    """Backward order (smaller first): op nodes from the loss back, a leaf right after its last consumer."""
    leaves = {n.name for n in graph.nodes if isinstance(n, Leaf)}
    position = {n.name: float(i) for i, n in enumerate(graph.nodes)}
    for node in graph.nodes:
        if isinstance(node, OpNode):
            for src in node.inputs:
                if src in leaves:
                    position[src] = max(position[src], position[node.name] - 0.5)
    return {name: -p for name, p in position.items()}


def _wrong(answer: Answer, name: str, ref: np.ndarray, tol: Tolerance) -> bool:
    got = answer.get(name) if isinstance(answer, dict) else None
    if not isinstance(got, np.ndarray) or got.shape != ref.shape or not np.isfinite(got).all():
        return True
    return compare(("claimed", "symbolic"), got, ref, "float64", tol).mismatched > 0


def _through(graph: Graph, name: str) -> str:
    """The backward steps that produce dL/d``name``: its consumers, as the student named them."""
    users = [n for n in graph.nodes if isinstance(n, OpNode) and name in n.inputs]
    return ", ".join(f"the {n.op}" if re.fullmatch(rf"{n.op}\d+", n.name) else f"`{n.name}` ({n.op})" for n in users)


def first_wrong(graph: Graph, asked: tuple[str, ...], reference: dict[str, np.ndarray], answer: Answer,
                tol: Tolerance) -> str | None:
    """The feedback line naming the first wrong stage of one trial (None when all are right)."""
    wrong = {n for n in asked if _wrong(answer, n, reference[n], tol)}
    if not wrong or isinstance(answer, str):
        return None
    down, order = _descendants(graph), _order(graph)
    first = min((n for n in wrong if not down[n] & wrong), key=lambda n: order[n])
    right = sorted((n for n in down[first] & set(asked)), key=lambda n: order[n], reverse=True)
    nearest = [n for n in right if not any(n in down[m] for m in right if m != n)] or right
    if nearest:
        after = ", ".join(f"dL/d{n}" for n in nearest)
        return (f"first wrong stage: dL/d{first} — {after} {'is' if len(nearest) == 1 else 'are'} right, so the "
                f"mistake is in your backward step through {_through(graph, first)}")
    return f"first wrong stage: dL/d{first} — the mistake is in your backward step through {_through(graph, first)}"


def first_wrong_of(problem: Problem, trial: Trial, answer: Answer, tol: Tolerance) -> str | None:
    """The first wrong stage of one trial's answers, for problems that ask for stages."""
    if not stage_names_of(problem) or isinstance(answer, str):
        return None
    return first_wrong(graph_for(problem, trial.values), problem.gradients, trial.reference, answer, tol)


def stage_names_of(problem: Problem) -> set[str]:
    return assignment_stages(problem.expression) & set(problem.gradients)
