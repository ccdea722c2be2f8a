"""``claimed`` keys of ``crossgrad.check``: leaves and intermediate tensors, by name or by tensor.

A hand-written backprop knows d loss / d z for a layer's ``z``; ``claimed={"z": dz}`` with
``names={"z": z}``, or ``claimed={z: dz}``, sends it as the adjoint of the op node that produced
``z`` (issue 15's claimed stages), as the engine's ``CheckRequest.claimed`` takes op node names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from crossgrad.engine.graph import Graph, GraphError, OpNode
from crossgrad.engine.numeric.tensor import Tensor


def with_claimed_tensors(names: Mapping[str, Any] | None, claimed: Mapping[Any, Any]) -> dict[str, Any]:
    """``names`` plus a name (``stage0``, ...) for each intermediate tensor used as a claimed key."""
    out = dict(names or {})
    taken = {id(t) for t in out.values()}
    for key in claimed:
        if isinstance(key, Tensor) and key.grad_fn is not None and id(key) not in taken:
            out[_fresh(out, "stage")] = key
            taken.add(id(key))
    return out


def _fresh(names: Mapping[str, Any], stem: str) -> str:
    k = 0
    while f"{stem}{k}" in names:
        k += 1
    return f"{stem}{k}"


def export_ids(names: Mapping[str, Any]) -> dict[int, str]:
    """What ``to_graph`` names: a leaf by its tensor's id, an intermediate by its grad_fn's id."""
    return {id(t.grad_fn) if getattr(t, "grad_fn", None) is not None else id(t): n for n, t in names.items()}


def claimed_by_name(claimed: Mapping[Any, Any], names: Mapping[str, Any], grad_leaves: Mapping[str, Tensor],
                    graph: Graph) -> dict[str, np.ndarray]:
    """``claimed`` keyed by name: a leaf requiring grad, or an op node (a named intermediate tensor)."""
    by_id = {id(t): n for n, t in {**names, **grad_leaves}.items()}
    stages = [n.name for n in graph.nodes if isinstance(n, OpNode)]
    named_stages = sorted(set(stages) & set(names))
    out = {}
    for key, value in claimed.items():
        name = by_id.get(id(key)) if isinstance(key, Tensor) else key
        if name is None or (isinstance(key, Tensor) and name not in grad_leaves and name not in stages):
            raise GraphError("claimed", "a claimed tensor key is not a leaf of this graph that requires grad, nor "
                                        f"an intermediate tensor of it; the leaves are {sorted(grad_leaves)}")
        if name not in grad_leaves and name not in stages:
            raise GraphError(f"claimed.{name}", "not a leaf that requires grad; the leaves that require grad are "
                                                f"{sorted(grad_leaves)}, the named intermediate tensors "
                                                f"{named_stages} (name them with names={{...}})")
        out[name] = claimed_value(name, value)
    return out


def claimed_value(name: str, value: Any) -> np.ndarray:
    """A claimed gradient as numbers: an array, nested lists, an engine or torch tensor (detached)."""
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(getattr(value, "_data", value))
    except (TypeError, ValueError) as err:
        raise GraphError(f"claimed.{name}",
                         f"expected an array of numbers, got {type(value).__name__}: {err}") from None
    if array.dtype.kind not in "biuf":
        raise GraphError(f"claimed.{name}", f"expected an array of numbers, got {type(value).__name__} "
                                            f"({array.dtype} values)")
    return array
