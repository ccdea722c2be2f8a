"""The symbolic witness at order 2: which tier differentiates twice, and why.

- exact: SymPy's closed-form gradient differentiated again (symbolic/second_order.py), up to
  SYMBOLIC_MAX differentiable elements and within the exact tier's budget;
- tensor: tangents through the tensor tier's SymPy-derived gradient program
  (symbolic/tensor_hvp.py), for larger graphs; an op it cannot differentiate twice is named
  with its reason and the symbolic witness does not run (no number rather than a wrong one).

``tier`` as at order 1: auto (exact when small, else tensor), exact, tensor, off.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .graph import Plan
from .symbolic.second_order import HESSIAN_TREE_MAX, SYMBOLIC_MAX

Found = tuple[np.ndarray | None, str, str]  # (H v rows or None, tier that ran or "off", reason)


def symbolic_hvps(plan: Plan, seed: np.ndarray, vs: np.ndarray, request: Any) -> Found:
    """SymPy's Hessian-vector products by the requested tier, or None and why not."""
    if "symbolic" not in request.witnesses or request.tier == "off":
        return None, "off", "the symbolic witness was not requested"
    n = sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves())
    why = ""
    if request.tier in ("auto", "exact"):
        found, why = _exact(plan, seed, vs, request, n)
        if found is not None:
            return found, "exact", f"{n} differentiable elements <= {SYMBOLIC_MAX}: SymPy's Hessian"
        if request.tier == "exact":
            return None, "off", why
    return _tensor(plan, seed, vs, why)


def _exact(plan: Plan, seed: np.ndarray, vs: np.ndarray, request: Any, n: int) -> tuple[np.ndarray | None, str]:
    """The exact tier's H v when small: at most SYMBOLIC_MAX differentiable elements and the exact
    tier's estimate times that count (a Hessian is that many gradients) within the budget."""
    from .symbolic import closed_form, exact
    from .symbolic.second_order import symbolic_hvps as exact_hvps

    if n > SYMBOLIC_MAX:
        return None, f"{n} differentiable elements, over the exact tier's {SYMBOLIC_MAX}"
    work = exact.estimate_work(plan) * n
    if work > request.exact_budget:
        return None, f"the exact tier's estimate for a Hessian ({work:,} element evaluations) is over " \
                     f"the budget {request.exact_budget:,}"
    found = exact_hvps(plan, seed, vs)
    if found is None:
        return None, "the exact tier's SymPy expressions for this graph are too large to write out or to " \
                     f"differentiate again (over {closed_form.MAX_TREE:,} nodes as a tree, or elements x gradient " \
                     f"nodes over {HESSIAN_TREE_MAX:,})"
    return found, ""


def _tensor(plan: Plan, seed: np.ndarray, vs: np.ndarray, why: str) -> Found:
    from .symbolic import tensor_hvp
    from .symbolic.tensor_second import NotTwice

    try:
        found = tensor_hvp.hvps(plan, seed, vs)
    except NotTwice as err:
        return None, "off", f"{why + '; ' if why else ''}the tensor tier cannot differentiate twice: {err}"
    return found, "tensor", f"{why or 'requested'}: tangents through the tensor tier's SymPy-derived gradient program"
