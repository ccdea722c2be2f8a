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
    row = _extremum_row(plan)
    if row > EXTREMUM_ROW_MAX:
        return None, f"a max/min over {row} elements (SymPy differentiates Max/Min of more than " \
                     f"{EXTREMUM_ROW_MAX} arguments twice in seconds to minutes)"
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


EXTREMA = ("amax", "amin", "max_all", "min_all", "max_dim", "min_dim", "max_pool2d", "adaptive_max_pool2d")
# the row length of a max/min above which order 2 leaves SymPy's exact tier: differentiating
# Max(*row) twice and lambdify took 0.6 s for 3 elements, 2.4 s for 4, 7 s for 5, 23 s for 6
# (in the request thread, where no deadline stops it)
EXTREMUM_ROW_MAX = 3


def _extremum_row(plan: Plan) -> int:
    """The longest row a max/min op of the graph reduces (kernel taps for a max pool)."""
    longest = 0
    for i, node in enumerate(plan.graph.nodes):
        op = getattr(node, "op", None)
        if op not in EXTREMA:
            continue
        src = plan.sources[i][0]
        size_in, size_out = math.prod(plan.shapes[src]) if src is not None else 1, math.prod(plan.shapes[i]) or 1
        row = math.prod(plan.attrs[i]["kernel_size"]) if op == "max_pool2d" else -(-size_in // size_out) + (
            op == "adaptive_max_pool2d")
        longest = max(longest, row)
    return longest


def _tensor(plan: Plan, seed: np.ndarray, vs: np.ndarray, why: str) -> Found:
    from .symbolic import tensor_hvp
    from .symbolic.tensor_second import NotTwice

    try:
        found = tensor_hvp.hvps(plan, seed, vs)
    except NotTwice as err:
        return None, "off", f"{why + '; ' if why else ''}the tensor tier cannot differentiate twice: {err}"
    return found, "tensor", f"{why or 'requested'}: tangents through the tensor tier's SymPy-derived gradient program"
