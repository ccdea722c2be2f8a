"""The server's admission arithmetic, once per structure.

Before a check runs, the server prices it from its validated plan: ``Limits.check_plan`` (every
op's output shape, convolution buffers, the estimated numeric and finite-difference work, the
response's size) and ``admission.estimated_work`` (big or small). Both read only the plan's
structure — what ``Plan.structure_hash`` covers: ops, inputs, attributes, shapes, dtypes, grad
flags, integer leaf values — and a few request fields (witnesses, tier, order, whether claimed
gradients come, figures_only), never a float value. So a structure that passed once with the same
fields passes again without the arithmetic (about 30-60 us of a seed-graph check, recomputed on
every call before). Requests with a program are always priced (their steps' count and kinds
matter), and a refusal is never remembered: it is raised again, computed, on every call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

SIZE = 1024  # structures x request fields remembered (least recently added dropped first)
_LOCK = threading.Lock()
_PASSED: OrderedDict[tuple, None] = OrderedDict()
_WORK: OrderedDict[tuple, int] = OrderedDict()


def _key(plan: Any, request: Any) -> tuple | None:
    """The request fields the pricing reads, with the structure; None: price it every time."""
    if request.program or not plan.structure_hash:
        return None
    return (plan.structure_hash, tuple(request.witnesses), request.tier, request.order, bool(request.claimed))


def _remember(table: OrderedDict, key: tuple, value: Any) -> None:
    with _LOCK:
        table[key] = value
        if len(table) > SIZE:
            table.popitem(last=False)


def check_plan(limits: Any, plan: Any, request: Any, figures_only: bool) -> None:
    """``limits.check_plan(plan, request, figures_only)``, skipped for a structure that passed."""
    key = _key(plan, request)
    if key is not None:
        key = (*key, figures_only, limits)
        if key in _PASSED:
            return
    limits.check_plan(plan, request, figures_only)
    if key is not None:
        _remember(_PASSED, key, None)


def work(plan: Any, request: Any, compute: Callable[[Any, Any], int]) -> int:
    """``compute(plan, request)`` (an estimated work), remembered per structure and fields."""
    key = _key(plan, request)
    if key is None:
        return compute(plan, request)
    found = _WORK.get(key)
    if found is None:
        found = compute(plan, request)
        _remember(_WORK, key, found)
    return found
