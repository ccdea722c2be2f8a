"""Facts about a plan that depend only on its structure, computed once per structure.

A batch checks many requests of one structure, each with its own plan; what ``check`` derives
from the structure alone (which op nodes PyTorch would name, whether an active kink op exists)
is the same for all of them. Keyed by the structure hash, plus the node names when the fact
names nodes (the hash leaves names out); a bounded LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .graph import Plan

SIZE = 256
_FACTS: OrderedDict[tuple, Any] = OrderedDict()


def memo(plan: Plan, what: str, compute: Callable[[Plan], Any], names: bool = False) -> Any:
    """``compute(plan)``, remembered for every plan of this structure (and these node names)."""
    if not plan.structure_hash:
        return compute(plan)
    key = (what, plan.structure_hash, tuple(n.name for n in plan.graph.nodes) if names else None)
    if key in _FACTS:
        _FACTS.move_to_end(key)
        return _FACTS[key]
    found = _FACTS[key] = compute(plan)
    if len(_FACTS) > SIZE:
        _FACTS.popitem(last=False)
    return found
