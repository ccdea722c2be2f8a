"""Programs: PyTorch's training-loop semantics as steps, run by every witness on its own state.

Steps: ``forward`` (a fresh graph with the current parameters), ``backward(root,
retain_graph, gradient)`` (gradients accumulate in ``.grad``), ``zero_grad`` and
``sgd_step(lr)``. The numeric engine runs them with real tensors; the symbolic and
finite-difference witnesses replay them in float64. A second backward through a freed graph
fails on its step with PyTorch's message; the reference side predicts that failure from the
SymPy templates (a graph saves values when some local derivative depends on them).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .compare import SKIPPED, PairComparison, compare, worst
from .errors import DeadlineError
from .graph import Graph, GraphError, Plan, validate
from .numeric.autograd import SECOND_BACKWARD
from .numeric.program import NumericSession, run_step
from .report import LeafReport, finish_leaf
from .symbolic import tensor
from .tolerance import Tolerance, policy

KINDS = ("forward", "backward", "zero_grad", "sgd_step")


@dataclass
class Step:
    kind: str
    root: str | None = None  # backward: the node to differentiate (default: the graph output)
    retain_graph: bool = False
    gradient: np.ndarray | None = None
    lr: float = 0.0


@dataclass
class StepReport:
    index: int
    kind: str
    errors: dict[str, str | None] = field(default_factory=dict)
    leaves: list[LeafReport] = field(default_factory=list)
    verdict: str = SKIPPED


GradientFn = Callable[[Plan, np.ndarray], tuple[dict[int, np.ndarray], np.ndarray]]




class ReferenceSession:
    """A float64 witness replaying the program on its own parameters and gradients."""

    def __init__(self, plan: Plan, gradient_fn: GradientFn) -> None:
        self.plan, self.gradient_fn = plan, gradient_fn
        self._params = {i: np.asarray(plan.graph.nodes[i].value, np.float64).copy()  # type: ignore[union-attr]
                       for i in plan.grad_leaves()}
        self.acc: dict[int, np.ndarray | None] = dict.fromkeys(self._params)
        self.freed = False

    def _plan_for(self, root: int) -> Plan:
        nodes = tuple(dataclasses.replace(n, value=self._params[i]) if i in self._params else n
                      for i, n in enumerate(self.plan.graph.nodes))
        return validate(Graph(nodes, self.plan.graph.nodes[root].name))

    def forward(self) -> None:
        self.freed = False

    def backward(self, root: int, gradient: np.ndarray | None, retain_graph: bool) -> None:
        plan = self._plan_for(root)
        if self.freed and tensor.saves_values(plan):
            raise RuntimeError(SECOND_BACKWARD)
        seed = np.ones(plan.shapes[plan.output]) if gradient is None else np.asarray(gradient, np.float64)
        grads, _ = self.gradient_fn(plan, seed)
        for i, g in grads.items():
            self.acc[i] = g.copy() if self.acc[i] is None else self.acc[i] + g
        self.freed = self.freed or not retain_graph

    def zero_grad(self) -> None:
        self.acc = dict.fromkeys(self._params)

    def sgd_step(self, lr: float) -> None:
        for i, g in self.acc.items():
            if g is not None:
                self._params[i] = self._params[i] - lr * g

    def grads(self) -> dict[int, np.ndarray | None]:
        return dict(self.acc)

    def params(self) -> dict[int, np.ndarray]:
        return dict(self._params)


def _step_args(plan: Plan, step: Step, index: int) -> dict:
    if step.kind not in KINDS:
        raise GraphError(f"program[{index}].kind", f"must be one of {list(KINDS)}")
    if step.kind == "backward":
        root = step.root or plan.graph.output
        if root not in plan.index:
            raise GraphError(f"program[{index}].root", f"unknown node {root!r}")
        return {"root": plan.index[root], "gradient": step.gradient, "retain_graph": step.retain_graph}
    if step.kind == "sgd_step":
        if not np.isfinite(step.lr):
            raise GraphError(f"program[{index}].lr", "must be a finite number")
        return {"lr": float(step.lr)}
    return {}


def _compare_states(plan: Plan, states: dict[str, dict[int, np.ndarray | None]],
                    tolerance: Tolerance | None) -> list[LeafReport]:
    leaves = []
    for i in plan.grad_leaves():
        dtype = plan.dtypes[i]
        values: dict[str, np.ndarray] = {}
        for witness, state in states.items():
            value = state.get(i)
            if value is not None:
                values[witness] = value
        entry = LeafReport(plan.graph.nodes[i].name, plan.shapes[i], dtype,
                           {w: np.asarray(v) for w, v in values.items()}, [])
        names = list(values)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                pair = (names[a], names[b])
                entry.pairs.append(compare(pair, values[pair[0]], values[pair[1]], dtype,
                                           policy(dtype, pair, tolerance)))
        if not entry.pairs:
            entry.pairs.append(PairComparison(("numeric", "symbolic"), SKIPPED, reason="no gradient yet"))
        leaves.append(finish_leaf(entry))
    return leaves


def run_program(plan: Plan, steps: list[Step], references: dict[str, GradientFn],
                tolerance: Tolerance | None = None, deadline: float | None = None) -> list[StepReport]:
    """Every witness runs every step; gradients are compared after each backward and the
    parameters after the last step. Past ``deadline`` (time.monotonic()) it stops between steps."""
    sessions: dict[str, NumericSession | ReferenceSession] = {"numeric": NumericSession(plan)}
    sessions.update({name: ReferenceSession(plan, fn) for name, fn in references.items()})
    reports = []
    for index, step in enumerate(steps):
        if deadline is not None and time.monotonic() > deadline:
            raise DeadlineError("program", f"stopped before step {index} of {len(steps)}: the call's deadline passed")
        args = _step_args(plan, step, index)
        report = StepReport(index, step.kind)
        report.errors = {name: run_step(s, step.kind, **args) for name, s in sessions.items()}
        if step.kind == "backward":
            report.leaves = _compare_states(plan, {n: s.grads() for n, s in sessions.items()}, tolerance)
        report.verdict = _step_verdict(report)
        reports.append(report)
    final = StepReport(len(steps), "final_parameters")
    params: dict[str, dict[int, np.ndarray | None]] = {n: dict(s.params()) for n, s in sessions.items()}
    final.leaves = _compare_states(plan, params, tolerance)
    final.verdict = _step_verdict(final)
    return reports + [final]


def _step_verdict(report: StepReport) -> str:
    failed = {name for name, err in report.errors.items() if err}
    if failed and failed != set(report.errors):
        return "mismatch"  # one witness failed the step and another did not
    return worst([leaf.verdict for leaf in report.leaves]) if report.leaves else "agree"

