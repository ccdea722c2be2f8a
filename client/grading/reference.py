"""References: every trial checked three ways by crossgrad before any student is graded,
plus "mistake variants" (the gradient with a relu'/sigmoid'/tanh' factor left out) for the
diagnosis. A trial that lands on a kink is redrawn unless the problem allows kinks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, OpNode, validate
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.numeric.run_graph import numeric_gradients
from crossgrad.engine.report import Report

from . import stages
from .assignment import Assignment, Problem, Reference, Trial, graph_for

MAX_REDRAWS = 20
MISTAKES = {"relu": "missing relu' factor", "sigmoid": "missing sigmoid' factor",
            "tanh": "missing tanh' factor"}


@contextmanager
def _straight_through(op: str) -> Iterator[None]:
    """The engine with one op's local derivative taken as 1 (only for building variants)."""
    rule = RULES[op]
    RULES[op] = Rule(rule.forward, lambda g, saved, node: (g,))
    try:
        yield
    finally:
        RULES[op] = rule


def variants(graph: Graph, names: tuple[str, ...]) -> dict[str, dict[str, np.ndarray]]:
    plan = validate(graph)
    used = {n.op for n in graph.nodes if isinstance(n, OpNode)}
    out = {}
    for op, label in MISTAKES.items():
        if op in used:
            with _straight_through(op):
                grads, _ = numeric_gradients(plan, np.ones(plan.shapes[plan.output]))
            out[label] = {graph.nodes[i].name: np.asarray(g, np.float64) for i, g in grads.items()
                          if graph.nodes[i].name in names}
    return out


Checker = Callable[[CheckRequest], Report]


def _trial(problem: Problem, rng: np.random.Generator, checker: Checker) -> tuple[Trial | None, str | None]:
    for _ in range(MAX_REDRAWS):
        values = {leaf.name: leaf.draw(rng) for leaf in problem.leaves}
        graph = graph_for(problem, values)
        plan = validate(graph)
        if plan.shapes[plan.output] not in ((), (1,)):
            return None, f"the expression's value has shape {list(plan.shapes[plan.output])}, not a scalar loss"
        report = checker(CheckRequest(graph, formulas=problem.hint == "closed_form"))
        if report.verdict == "convention" and not problem.kinks:
            continue  # on a kink: draw again
        if report.verdict not in ("agree", "convention", "unresolved"):  # unresolved: the exact reference holds
            return None, f"the reference's witnesses do not agree ({report.verdict}):\n{report}"
        asked = stages.stage_names(graph, problem.gradients)
        leaves = [n for n in problem.gradients if n not in asked]
        reference = {n: report.grad(n, "symbolic") if report.grad(n, "symbolic") is not None
                     else np.asarray(report.grad(n, "numeric"), np.float64) for n in leaves}
        found = stages.references(graph, asked) if asked else {}
        if isinstance(found, str):
            return None, found
        reference.update(found)
        forms = {leaf.name: leaf.closed_form for leaf in report.leaves if leaf.closed_form}
        return Trial(values, reference, variants(graph, problem.gradients), forms or None), None
    return None, f"no values away from kinks in {MAX_REDRAWS} draws"


def references(assignment: Assignment, checker: Checker = check) -> list[Reference]:
    """One Reference per problem, drawn from the assignment's secret seed; ``checker`` is the
    engine's check (embedded) or a remote client's."""
    out = []
    for index, problem in enumerate(assignment.problems):
        rng = np.random.default_rng([assignment.seed, index])
        trials: list[Trial] = []
        invalid = None
        for _ in range(problem.trials):
            trial, invalid = _trial(problem, rng, checker)
            if trial is None:
                break
            trials.append(trial)
        out.append(Reference(problem, trials, invalid))
    return out
