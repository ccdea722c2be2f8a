"""Which op's backward is wrong (issue 15): adjoints at every op node, compared across witnesses.

A node is a culprit when the adjoint of its output agrees between two witnesses while the
adjoint it sends to one of its inputs does not: the error enters the graph there. Several
independent faulty nodes are all named. Runs only after a mismatch (the agreeing check pays
nothing). Kinks are not excused here: a culprit is reported only for a mismatched check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .graph import OpNode, Plan, input_indices
from .numeric.run_graph import float64_gradients
from .symbolic import tensor_adjoints
from .symbolic.exact_adjoints import node_adjoints

RTOL = 1e-6  # both witnesses run in float64 here; a wrong rule is far outside this
ATOL = 1e-6  # times the largest |adjoint| at that node (cancellation)

Adjoints = dict[int, tuple[np.ndarray, list[Any]]]


@dataclass
class Culprit:
    """An op node whose backward rule sends a wrong adjoint to one of its inputs."""

    node: str
    op: str
    grad_fn: str
    input: int  # position of the input whose adjoint is off
    index: tuple[int, ...]  # worst element of that input's adjoint
    values: dict[str, float]  # per witness, its adjoint there
    mismatched: int
    total: int
    suspect: str | None = None  # the witness whose rule is wrong, when the leaves' verdict says

    def __str__(self) -> str:
        figures = ", ".join(f"{w} {v:.6g}" for w, v in self.values.items())
        blame = f"suspect: {self.suspect}'s rule for {self.op}" if self.suspect else "the witnesses' rules differ"
        return (f"node {self.node} ({self.op}, {self.grad_fn}): the adjoint of its input {self.input} is off at "
                f"{list(self.index)} ({figures}; {self.mismatched}/{self.total} elements); its output adjoint "
                f"agrees — {blame}")


def numeric_adjoints(plan: Plan, seed: np.ndarray) -> Adjoints:
    """The numeric engine's backward in float64, recording each op node's incoming adjoint and
    what its VJP sends to each input."""
    found: Adjoints = {}

    def record(i: int, grad_fn: Any) -> Any:
        vjp = grad_fn.vjp

        def run(g: np.ndarray, saved: Any, node: Any) -> Any:
            sent = vjp(g, saved, node)
            found[i] = (np.asarray(g, np.float64), [None if s is None else np.asarray(s, np.float64)
                                                    for s in sent])
            return sent
        return run

    float64_gradients(plan, seed, lambda i, grad_fn: record(i, grad_fn) if hasattr(grad_fn, "vjp") else None)
    return found


def _off(a: Any, b: Any) -> np.ndarray | None:
    """Boolean mask of disagreeing elements (None when the two agree everywhere)."""
    if a is None or b is None:
        return None
    if np.shape(a) != np.shape(b):
        return np.ones(np.shape(b), bool)
    scale = max(float(np.max(np.abs(x[np.isfinite(x)]), initial=0.0)) for x in (a, b))
    with np.errstate(all="ignore"):
        off = ~(np.abs(a - b) <= RTOL * np.abs(b) + ATOL * scale)
    off &= ~(np.isnan(a) & np.isnan(b))
    off &= ~(np.isinf(a) & (a == b))
    return off if off.any() else None


def culprits(plan: Plan, witnesses: dict[str, Adjoints], grad_fns: dict[str, str],
             suspect: str | None = None) -> list[Culprit]:
    """Every (node, input) whose sent adjoint differs between the first two witnesses given
    while the node's output adjoint agrees."""
    (name_a, a), (name_b, b) = list(witnesses.items())[:2]
    found = []
    for i in sorted(set(a) & set(b), reverse=True):
        (out_a, sent_a), (out_b, sent_b) = a[i], b[i]
        if _off(out_a, out_b) is not None or len(sent_a) != len(sent_b):
            continue
        node = plan.graph.nodes[i]
        assert isinstance(node, OpNode)
        srcs = input_indices(plan, i)
        for pos, (x, y) in enumerate(zip(sent_a, sent_b)):
            src = srcs[pos]
            off = None if src is None or not plan.active[src] else _off(x, y)
            if off is None:
                continue
            excess = np.where(off, np.abs(np.nan_to_num(np.broadcast_to(x, off.shape) - y, nan=np.inf)), -1.0) \
                if np.shape(x) == np.shape(y) else off.astype(float)
            index = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), off.shape)) if off.ndim else ()
            values = {name_a: float(x[index]) if np.shape(x) == off.shape else float("nan"),
                      name_b: float(y[index])}
            found.append(Culprit(node.name, node.op, grad_fns.get(node.name, ""), pos, index, values,
                                 int(off.sum()), int(off.size), suspect))
    return found


def localize(plan: Plan, seed: np.ndarray, grad_fns: dict[str, str], suspect: str | None,
             tier: str = "exact") -> list[Culprit]:
    """Numeric against the symbolic tier that ran (exact or tensor) at every op node."""
    symbolic = node_adjoints(plan, seed) if tier == "exact" else tensor_adjoints.node_adjoints(plan, seed)
    return culprits(plan, {"numeric": numeric_adjoints(plan, seed), "symbolic": symbolic}, grad_fns, suspect)
