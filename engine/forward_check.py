"""Forward values have witnesses too: the numeric engine's value at every op node against the
exact tier's value of the same node from the same inputs (issue 20, item 8).

A wrong numeric forward rule also misleads finite differences (they run the same forward rules),
so two of three gradient witnesses agree on a wrong answer and the symbolic one looks guilty. The
node whose own forward disagrees is named instead. Runs only when a check found a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import offload
from .graph import OpNode, Plan, input_indices
from .numeric.run_graph import forward_values
from .symbolic import exact_forward, tensor_adjoints

RTOL = 1e-9  # float64 forward of one op from identical inputs: a few ulp, far below this
ATOL = 1e-9  # times the largest |value| among the node's inputs and output (cancellation inside the op)
LOOSE32 = 1e-5  # both, for a float32 node (its numeric value is rounded to float32, the exact one is not)


@dataclass
class ForwardMismatch:
    """One op node whose numeric forward rule disagrees with the exact tier's."""

    node: str
    op: str
    mismatched: int
    total: int
    worst_index: tuple[int, ...]
    numeric: float
    symbolic: float
    witness: str = "numeric"  # the suspect: the numeric engine's forward rule for ``op``

    def __str__(self) -> str:
        return (f"forward of node {self.node} ({self.op}) is off at {self.mismatched}/{self.total} element(s), "
                f"worst at {list(self.worst_index)}: numeric {self.numeric!r} vs symbolic {self.symbolic!r} "
                f"— suspect: numeric's forward rule for {self.op}")


def _finite_max(*arrays: np.ndarray) -> float:
    return max((float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in arrays), default=0.0)


def _compare(name: str, op: str, numeric: np.ndarray, exact: np.ndarray,
             sources: list[np.ndarray], float32: bool = False) -> ForwardMismatch | None:
    scale = _finite_max(exact, *sources)
    rtol, atol = (LOOSE32, LOOSE32) if float32 else (RTOL, ATOL)
    with np.errstate(all="ignore"):
        off = np.abs(numeric - exact) > rtol * np.abs(exact) + atol * scale
    off |= np.isfinite(exact) != np.isfinite(numeric)
    off &= ~(np.isnan(exact) & np.isnan(numeric))
    off &= ~(np.isinf(exact) & (numeric == exact))
    if not off.any():
        return None
    with np.errstate(all="ignore"):
        excess = np.where(off, np.nan_to_num(np.abs(numeric - exact), nan=np.inf), -1.0)
    worst = np.unravel_index(int(np.argmax(excess)), numeric.shape) if numeric.ndim else ()
    index = tuple(int(k) for k in worst)
    return ForwardMismatch(name, op, int(off.sum()), int(off.size), index, float(numeric[index]), float(exact[index]))


def forward_mismatches(plan: Plan, tier: str = "exact") -> list[ForwardMismatch]:
    """Every op node whose numeric forward disagrees with the symbolic tier's (exact or tensor)
    forward from the same inputs."""
    numeric = forward_values(plan)
    for i, value in enumerate(numeric):
        if value is not None and np.asarray(value).dtype.kind in "fc":
            numeric[i] = np.asarray(value, np.float64)
    exact = offload.call((exact_forward if tier == "exact" else tensor_adjoints).node_values, plan, numeric)
    found = []
    for i, value in exact.items():
        node = plan.graph.nodes[i]
        assert isinstance(node, OpNode)
        srcs = [np.asarray(numeric[s], np.float64) for s in input_indices(plan, i) if s is not None]
        mismatch = _compare(node.name, node.op, np.asarray(numeric[i], np.float64), value, srcs,
                            plan.dtypes[i] == "float32")
        if mismatch is not None:
            found.append(mismatch)
    return found

