"""Culprits as plain fields and back (issue 15), so the two wire converters carry them without
knowing the three culprit types: a backward rule, a forward rule, a wrong claimed stage."""

from __future__ import annotations

from typing import Any

from .claimed_stages import ClaimedStage
from .forward_check import ForwardMismatch
from .localize import Culprit

ORDER = ("numeric", "symbolic", "finite_difference", "claimed")  # how values print


def kind_of(culprit: Any) -> str:
    """"backward", "forward" or "claimed_stage"."""
    if isinstance(culprit, ForwardMismatch):
        return "forward"
    if isinstance(culprit, ClaimedStage):
        return "claimed_stage"
    return "backward"


def as_fields(culprit: Any, grad_fns: dict[str, str]) -> dict[str, Any]:
    """The fields of the proto's Culprit message (kind and suspect as names)."""
    kind = kind_of(culprit)
    fields: dict[str, Any] = {"kind": kind, "node": culprit.node, "op": culprit.op,
                              "grad_fn": getattr(culprit, "grad_fn", "") or grad_fns.get(culprit.node, ""),
                              "mismatched": culprit.mismatched, "total": culprit.total, "message": str(culprit)}
    if kind == "forward":
        fields.update(index=list(culprit.worst_index), suspect=culprit.witness,
                      values={"numeric": culprit.numeric, "symbolic": culprit.symbolic})
    elif kind == "claimed_stage":
        fields.update(index=list(culprit.index), suspect="claimed", consumers=list(culprit.consumers),
                      first=culprit.first,
                      values={"claimed": culprit.claimed, culprit.reference_witness: culprit.reference})
    else:
        fields.update(index=list(culprit.index), input=culprit.input, suspect=culprit.suspect or "",
                      values=dict(culprit.values))
    return fields


def from_fields(kind: str, node: str, op: str, grad_fn: str, input: int, index: list[int],
                values: dict[str, float], suspect: str, mismatched: int, total: int,
                consumers: list[str], first: bool) -> Any:
    """The engine's culprit object for these fields (what ``report.culprits`` holds locally)."""
    where = tuple(int(k) for k in index)
    if kind == "forward":
        return ForwardMismatch(node, op, mismatched, total, where, values.get("numeric", float("nan")),
                               values.get("symbolic", float("nan")), suspect or "numeric")
    if kind == "claimed_stage":
        reference = next((w for w in ORDER if w in values and w != "claimed"), "symbolic")
        return ClaimedStage(node, op, where, values.get("claimed", float("nan")),
                            values.get(reference, float("nan")), mismatched, total, reference,
                            tuple(consumers), first)
    ordered = {w: values[w] for w in ORDER if w in values}
    return Culprit(node, op, grad_fn, input, where, ordered, mismatched, total, suspect or None)
