"""The tensor tier's derivations cached per op SIGNATURE, process-wide.

A compiled step (its SymPy-derived templates, their numpy functions and index arrays) depends
only on the op, its input shapes, its resolved attributes and the values of its integer inputs
(embedding indices, class targets) — not on the graph around it. So one derivation serves every
node of that signature: the repeated layer norms and linears of a transformer block, the same
op in another graph, and the next check of a model whose structure changed elsewhere. Bounded
LRU; nothing is written to disk.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import Leaf, Plan, input_indices

MAX_STEPS = 256
MAX_BYTES = 256 << 20  # index arrays the cached steps may hold (a server sees many big graphs)
_STEPS: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
_STATS = {"hits": 0, "misses": 0, "bytes": 0}


def _nbytes(step: Any) -> int:
    """The index arrays a template step holds (the other steps hold none of note)."""
    return sum(g.gather.nbytes + g.out_index.nbytes for st in getattr(step, "stages", ()) for g in st.groups)


def _frozen(value: Any) -> Any:
    """An attribute value as a hashable key that keeps 1, 1.0, True and -0.0 apart."""
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("map", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, _digest(value))
    return (type(value).__name__, value)


def _digest(value: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).hexdigest()


def signature(plan: Plan, i: int) -> tuple | None:
    """What node ``i``'s step depends on, or None when it cannot be keyed (then it is not shared)."""
    node = plan.graph.nodes[i]
    parts: list[Any] = [node.op]  # type: ignore[union-attr]
    for s in input_indices(plan, i):
        if s is None:
            parts.append(None)
            continue
        integer = plan.dtypes[s] == "int64"  # every other dtype is computed in float64
        parts.append((plan.shapes[s], integer))
        if integer:
            source = plan.graph.nodes[s]
            if not isinstance(source, Leaf):
                return None
            parts.append(_frozen(np.asarray(source.value)))
    try:
        parts.append(_frozen(plan.attrs[i]))
        parts.append(plan.shapes[i])
        key = tuple(parts)
        hash(key)
    except TypeError:
        return None
    return key


def cached_step(plan: Plan, i: int, build: Callable[[Plan, int], Any], kind: str = "step") -> Any:
    """Node ``i``'s compiled step of this ``kind``: the one already derived for its signature,
    else ``build``'s."""
    key = signature(plan, i)
    if key is None:
        return build(plan, i)
    key = (kind, *key)
    entry = _STEPS.get(key)
    if entry is not None:
        _STEPS.move_to_end(key)
        _STATS["hits"] += 1
        return entry[0]
    _STATS["misses"] += 1
    found = build(plan, i)
    size = _nbytes(found)
    if size <= MAX_BYTES // 4:  # a huge one is not kept (its plan's own cache still holds it)
        _STEPS[key] = (found, size)
        _STATS["bytes"] += size
    while _STEPS and (len(_STEPS) > MAX_STEPS or _STATS["bytes"] > MAX_BYTES):
        _STATS["bytes"] -= _STEPS.popitem(last=False)[1][1]
    return found


def stats() -> dict[str, int]:
    """Hits and misses since the process started (tests and benchmarks read them)."""
    return dict(_STATS, size=len(_STEPS))


def clear() -> None:
    """Forget every cached step (a cold start for tests and benchmarks)."""
    _STEPS.clear()
    _STATS["bytes"] = 0
