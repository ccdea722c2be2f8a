"""References: every trial checked three ways by crossgrad before any student is graded,
plus "mistake variants" (the gradient with a relu'/sigmoid'/tanh' factor left out) for the
diagnosis. A trial that lands on a kink is redrawn unless the problem allows kinks."""

from __future__ import annotations

import copy
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
CheckerMany = Callable[[list[CheckRequest]], list[Report]]  # reports in order (a batch: one structure)


def _judge(problem: Problem, graph: Graph, values: dict, report: Report) -> tuple[Trial | None, str | None, bool]:
    """One drawn trial's outcome from its check: (trial, None, False) kept, (None, None, True)
    drawn again (on a kink), (None, why, False) the problem is invalid."""
    if report.verdict == "convention" and not problem.kinks:
        return None, None, True  # on a kink: draw again
    if report.verdict not in ("agree", "convention", "unresolved"):  # unresolved: the exact reference holds
        return None, f"the reference's witnesses do not agree ({report.verdict}):\n{report}", False
    asked = stages.stage_names(graph, problem.gradients)
    leaves = [n for n in problem.gradients if n not in asked]
    reference = {n: report.grad(n, "symbolic") if report.grad(n, "symbolic") is not None
                 else np.asarray(report.grad(n, "numeric"), np.float64) for n in leaves}
    found = stages.references(graph, asked) if asked else {}
    if isinstance(found, str):
        return None, found, False
    reference.update(found)
    forms = {leaf.name: leaf.closed_form for leaf in report.leaves if leaf.closed_form}
    return Trial(values, reference, variants(graph, problem.gradients), forms or None), None, False


def _draw(problem: Problem, rng: np.random.Generator) -> tuple[dict, Graph, str | None]:
    values = {leaf.name: leaf.draw(rng) for leaf in problem.leaves}
    graph = graph_for(problem, values)
    plan = validate(graph)
    if plan.shapes[plan.output] not in ((), (1,)):
        return values, graph, f"the expression's value has shape {list(plan.shapes[plan.output])}, not a scalar loss"
    return values, graph, None


def _trials(problem: Problem, rng: np.random.Generator, many: CheckerMany,
            seen: list[tuple[Report, Graph]]) -> tuple[list[Trial], str | None]:
    """The problem's trials, the draws still pending checked as one batch (one structure): the
    same trials, redraws and ``seen`` as drawing and checking one at a time, because the draws
    after the first redraw are dropped and the generator rewound to just after that draw."""
    trials: list[Trial] = []
    redraws = 0
    while len(trials) < problem.trials:
        drawn, states = [], []
        for _ in range(problem.trials - len(trials)):
            values, graph, bad = _draw(problem, rng)
            if bad:  # the output's shape: the structure's, so the first draw finds it
                return trials, bad
            drawn.append((values, graph))
            states.append(copy.deepcopy(rng.bit_generator.state))
        reports = many([CheckRequest(g, formulas=problem.hint == "closed_form") for _, g in drawn])
        for (values, graph), report, state in zip(drawn, reports, states):
            seen.append((report, graph))
            trial, invalid, again = _judge(problem, graph, values, report)
            if invalid:
                return trials, invalid
            if again:
                redraws += 1
                if redraws >= MAX_REDRAWS:
                    return trials, f"no values away from kinks in {MAX_REDRAWS} draws"
                rng.bit_generator.state = state
                break
            trials.append(trial)  # type: ignore[arg-type]
            redraws = 0
    return trials, None


def _local_many(requests: list[CheckRequest]) -> list[Report]:
    """Embedded: same-structure requests checked together (engine/batch_check.py)."""
    from crossgrad.engine.batch_check import check_many

    found = check_many(requests)
    for item in found:
        if isinstance(item, Exception):
            raise item
    return found


def references(assignment: Assignment, checker: Checker = check, many: CheckerMany | None = None) -> list[Reference]:
    """One Reference per problem, drawn from the assignment's secret seed; ``checker`` is the
    engine's check (embedded) or a remote client's; ``many`` checks a problem's trials as one
    batch (embedded: engine/batch_check.py; remote: the client's check_many)."""
    if many is None:
        many = _local_many if checker is check else (lambda requests: [checker(r) for r in requests])
    out = []
    for index, problem in enumerate(assignment.problems):
        rng = np.random.default_rng([assignment.seed, index])
        seen: list[tuple[Report, Graph]] = []
        trials, invalid = _trials(problem, rng, many, seen)
        report, graph = (seen[-1] if invalid else seen[0]) if seen else (None, None)
        out.append(Reference(problem, trials, invalid, report, graph))
    return out
