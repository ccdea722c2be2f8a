"""SymPy second derivatives for check(order=2): the closed-form gradient differentiated again."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from ..graph import Leaf, Plan
from . import closed_form

SYMBOLIC_MAX = 8  # differentiable elements up to which SymPy differentiates twice (it is slow)


def _leaf(plan: Plan, i: int) -> Leaf:
    node = plan.graph.nodes[i]
    assert isinstance(node, Leaf)
    return node


def symbolic_hvps(plan: Plan, seed: np.ndarray, vs: np.ndarray) -> np.ndarray | None:
    """[directions, elements] from SymPy second derivatives, or None when too large."""
    if sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves()) > SYMBOLIC_MAX:
        return None
    forms = closed_form.closed_forms(plan, seed)
    if forms is None:
        return None
    symbols, values = [], []
    for i in plan.grad_leaves():
        symbols += closed_form._leaf_exprs(plan, i, _leaf(plan, i))
        values += np.asarray(_leaf(plan, i).value, np.float64).ravel().tolist()
    gradient = [e for i in plan.grad_leaves() for e in forms[i]]
    hessian = [[sp.diff(g, x) for x in symbols] for g in gradient]  # sympy.diff twice
    with mpmath.workdps(30):
        table = sp.lambdify(symbols, hessian, "mpmath")(*[mpmath.mpf(x) for x in values])
        h = np.array([[float(e) for e in row] for row in table], dtype=np.float64)
    return vs @ h
