"""``claimed`` adjoints at op nodes (issue 15): a client's own backprop sends d loss / d node
output for intermediate nodes (a layer's dL/dz) and learns which of its stages is wrong.

Each claimed node is compared with the reference adjoint (the exact tier's when it ran, else the
numeric engine's in float64). The first wrong stage is the wrong node nearest the output: the
backward pass computes it first, and every stage after it inherits its error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import GraphError, OpNode, Plan
from .tolerance import Tolerance, policy


@dataclass
class ClaimedStage:
    """A claimed intermediate adjoint that disagrees with the reference."""

    node: str
    op: str
    index: tuple[int, ...]
    claimed: float
    reference: float
    mismatched: int
    total: int
    reference_witness: str
    consumers: tuple[str, ...] = ()  # "h (tanh)": the backward rules that produced this adjoint
    first: bool = False  # the first wrong stage of the backward pass

    def __str__(self) -> str:
        which = "first wrong stage" if self.first else "wrong stage"
        return (f"{which}: claimed adjoint of node {self.node} ({self.op}) is off at {self.mismatched}/"
                f"{self.total} element(s), worst at {list(self.index)}: claimed {self.claimed!r} vs "
                f"{self.reference_witness} {self.reference!r} — suspect: claimed's backward of "
                f"{', '.join(self.consumers) or 'the output'}")


def split_claimed(plan: Plan, claimed: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """The claimed entries naming op nodes (removed from ``claimed``), by node position."""
    if not claimed:
        return {}
    ops = {node.name: i for i, node in enumerate(plan.graph.nodes[: plan.output + 1])
           if isinstance(node, OpNode) and plan.active[i]}
    found = {}
    for name in [n for n in claimed if n in ops]:
        value = np.asarray(claimed.pop(name), np.float64)
        if value.shape != plan.shapes[ops[name]]:
            raise GraphError(f"claimed.{name}", f"shape {list(value.shape)} does not match the node's "
                                                f"{list(plan.shapes[ops[name]])}")
        found[ops[name]] = value
    return found


def refuse_unknown(plan: Plan, claimed: dict[str, np.ndarray]) -> None:
    """A claimed name that is neither a leaf requiring grad nor an op node on the loss's path: say
    which names there are (before any witness runs)."""
    leaves = [plan.graph.nodes[i].name for i in plan.grad_leaves()]
    unknown = sorted(set(claimed) - set(leaves))
    if unknown:
        stages = [node.name for i, node in enumerate(plan.graph.nodes[: plan.output + 1])
                  if isinstance(node, OpNode) and plan.active[i]]
        raise GraphError(f"claimed.{unknown[0]}", f"not a leaf that requires grad nor an op node the loss depends "
                                                  f"on; the leaves that require grad are {leaves}, the op nodes "
                                                  f"{_listed(stages)}")


def _listed(names: list[str], most: int = 20) -> str:
    return str(names) if len(names) <= most else f"{names[:most]} ... ({len(names)} in all)"


def wrong_stages(plan: Plan, claimed: dict[int, np.ndarray], reference: dict[int, np.ndarray], witness: str,
                 override: Tolerance | None) -> list[ClaimedStage]:
    """Claimed intermediate adjoints that disagree with the reference, nearest the output first."""
    found = []
    for i in sorted(claimed, reverse=True):
        ref = reference.get(i, np.zeros(plan.shapes[i]))
        tol = policy(plan.dtypes[i], ("claimed", witness), override)
        scale = float(np.max(np.abs(ref[np.isfinite(ref)]), initial=0.0))
        with np.errstate(all="ignore"):
            off = ~(np.abs(claimed[i] - ref) <= tol.rtol * np.abs(ref) + tol.atol * max(scale, 1e-300))
        if not off.any():
            continue
        excess = np.where(off, np.nan_to_num(np.abs(claimed[i] - ref), nan=np.inf), -1.0)
        index = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), off.shape)) if off.ndim else ()
        node = plan.graph.nodes[i]
        users = tuple(f"{n.name} ({n.op})" for n in plan.graph.nodes[: plan.output + 1]
                      if isinstance(n, OpNode) and node.name in n.inputs)
        found.append(ClaimedStage(node.name, getattr(node, "op", ""), index, float(claimed[i][index]),
                                  float(ref[index]), int(off.sum()), int(off.size), witness, users))
    if found:
        found[0].first = True
    return found
