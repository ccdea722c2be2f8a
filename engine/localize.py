"""Which op's backward is wrong (issue 15): adjoints at every op node, compared across witnesses.

A node is a culprit when the adjoint of its output agrees between two witnesses while the
adjoint it sends to one of its inputs does not: the error enters the graph there. Several
independent faulty nodes are all named. Runs only after a mismatch (the agreeing check pays
nothing). Kinks are not excused here: a culprit is reported only for a mismatched check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import kinks, offload
from .graph import OpNode, Plan, input_indices
from .numeric.run_graph import float64_gradients, forward_values
from .symbolic import tensor_adjoints
from .symbolic.exact_adjoints import node_adjoints

RTOL = 1e-6  # both witnesses run in float64 here; a wrong rule is far outside this
ATOL = 1e-6  # times the largest |adjoint| at that node (cancellation)

Adjoints = dict[int, tuple[np.ndarray, list[Any]]]
Replay = dict[int, Callable[[np.ndarray], list[Any]]]  # node -> its numeric VJP applied to another adjoint


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
    unit: str = "elements"  # or "directions": finite differences along random sign directions
    replayed: bool = False  # the output adjoint is off too (a fault downstream); given the other's, still wrong

    def __str__(self) -> str:
        figures = ", ".join(f"{w} {v:.6g}" for w, v in self.values.items())
        blame = f"suspect: {self.suspect}'s rule for {self.op}" if self.suspect else "the witnesses' rules differ"
        where = f"at {list(self.index)}" if self.unit == "elements" else f"along direction {list(self.index)}"
        if self.replayed:
            first, other = list(self.values)[:2]
            return (f"node {self.node} ({self.op}, {self.grad_fn}): given {other}'s output adjoint, {first}'s rule "
                    f"sends its input {self.input} an adjoint off {where} ({figures}; {self.mismatched}/{self.total} "
                    f"{self.unit}) — {blame}")
        return (f"node {self.node} ({self.op}, {self.grad_fn}): the adjoint of its input {self.input} is off "
                f"{where} ({figures}; {self.mismatched}/{self.total} {self.unit}); its output adjoint "
                f"agrees — {blame}")


def numeric_adjoints(plan: Plan, seed: np.ndarray, replay: Replay | None = None) -> Adjoints:
    """The numeric engine's backward in float64, recording each op node's incoming adjoint and
    what its VJP sends to each input (and into ``replay``, that VJP for any other adjoint)."""
    found: Adjoints = {}

    def record(i: int, grad_fn: Any) -> Any:
        vjp = grad_fn.vjp

        def run(g: np.ndarray, saved: Any, node: Any) -> Any:
            sent = vjp(g, saved, node)
            found[i] = (np.asarray(g, np.float64), _floats(sent))
            if replay is not None:
                replay[i] = lambda adjoint: _floats(vjp(adjoint, saved, node))
            return sent
        return run

    float64_gradients(plan, seed, lambda i, grad_fn: record(i, grad_fn) if hasattr(grad_fn, "vjp") else None)
    return found


def _floats(sent: Any) -> list[Any]:
    return [None if s is None else np.asarray(s, np.float64) for s in sent]


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
             suspect: str | None = None, replay: Replay | None = None, kinked: frozenset[int] = frozenset()
             ) -> list[Culprit]:
    """Every (node, input) whose sent adjoint differs between the first two witnesses given
    while the node's output adjoint agrees; with ``replay`` (the first witness's rules), also a
    node whose output adjoint is off (a fault downstream) if its rule applied to the second
    witness's output adjoint still sends a wrong one: faults on one path are all named. Nodes
    sitting on their kink (``kinked``) are never named: their witnesses may differ by convention."""
    (name_a, a), (name_b, b) = list(witnesses.items())[:2]
    found = []
    for i in sorted(set(a) & set(b) - kinked, reverse=True):
        (out_a, recorded), (out_b, sent_b) = a[i], b[i]
        replayed = _off(out_a, out_b) is not None
        sent_a = _replayed(replay, i, out_b) if replayed else recorded
        if sent_a is None or len(sent_a) != len(sent_b):
            continue
        node = plan.graph.nodes[i]
        assert isinstance(node, OpNode)
        for pos, src in enumerate(input_indices(plan, i)):
            off = None if src is None or not plan.active[src] else _off(sent_a[pos], sent_b[pos])
            if off is not None:
                found.append(_culprit(node, grad_fns, pos, off, {name_a: sent_a[pos], name_b: sent_b[pos]},
                                      suspect, replayed))
    return found


def _replayed(replay: Replay | None, i: int, adjoint: np.ndarray) -> list[Any] | None:
    """Node ``i``'s rule applied to ``adjoint``, or None when it cannot be (or raises)."""
    if replay is None or i not in replay:
        return None
    try:
        with np.errstate(all="ignore"):
            return replay[i](np.asarray(adjoint, np.float64))
    except (ValueError, TypeError, IndexError, ArithmeticError):
        return None


def _culprit(node: OpNode, grad_fns: dict[str, str], pos: int, off: np.ndarray, sent: dict[str, Any],
             suspect: str | None, replayed: bool) -> Culprit:
    x, y = sent.values()
    excess = np.where(off, np.abs(np.nan_to_num(np.broadcast_to(x, off.shape) - y, nan=np.inf)), -1.0) \
        if np.shape(x) == np.shape(y) else off.astype(float)
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), off.shape)) if off.ndim else ()
    a, b = sent
    values = {a: float(x[index]) if np.shape(x) == off.shape else float("nan"), b: float(y[index])}
    return Culprit(node.name, node.op, grad_fns.get(node.name, ""), pos, index, values, int(off.sum()),
                   int(off.size), suspect, replayed=replayed)


def localize(plan: Plan, seed: np.ndarray, grad_fns: dict[str, str], suspect: str | None,
             tier: str = "exact") -> list[Culprit]:
    """Numeric against the symbolic tier that ran (exact or tensor) at every op node."""
    symbolic = offload.call(node_adjoints if tier == "exact" else tensor_adjoints.node_adjoints, plan, seed)
    replay: Replay = {}
    numeric = numeric_adjoints(plan, seed, replay)
    return culprits(plan, {"numeric": numeric, "symbolic": symbolic}, grad_fns, suspect, replay, kinked(plan))


def kinked(plan: Plan, values: list[Any] | None = None) -> frozenset[int]:
    """Active nodes with some element exactly on their kink (relu/abs at 0, ties)."""
    if not any(getattr(n, "op", None) in kinks.KINK_AT for n in plan.graph.nodes[: plan.output + 1]):
        return frozenset()
    return frozenset(i for i, _ in kinks.at_kink(plan, forward_values(plan) if values is None else values))
