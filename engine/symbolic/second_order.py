"""SymPy second derivatives for check(order=2): the closed-form gradient differentiated again.

The Hessian's expressions depend on the graph's structure, the constant leaves' values and the
seed, never on the differentiable leaves' values (they are the symbols): the compiled Hessian is
cached under that key, so a new check of the same graph with new weights only evaluates it.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..graph import Leaf, Plan
from . import closed_form

SYMBOLIC_MAX = 24  # differentiable elements up to which SymPy differentiates twice (it is slow)
# elements x the gradient's tree size up to which it does: sympy.diff and lambdify walk about that
# many nodes (~0.1 ms each, in the request thread); a 4x3 batch_norm (154,512) took 14-40 s
HESSIAN_TREE_MAX = 60_000
CACHE_SIZE = 64
_COMPILED: OrderedDict[str, Callable[..., Any] | None] = OrderedDict()


def _leaf(plan: Plan, i: int) -> Leaf:
    node = plan.graph.nodes[i]
    assert isinstance(node, Leaf)
    return node


def _key(plan: Plan, seed: np.ndarray) -> str:
    """Structure, seed and every constant leaf's value (they are numbers inside the expressions)."""
    digest = hashlib.sha256(plan.structure_hash.encode())
    digest.update(np.ascontiguousarray(seed, np.float64).tobytes())
    grad = set(plan.grad_leaves())
    for i, node in enumerate(plan.graph.nodes):
        if isinstance(node, Leaf) and i not in grad:
            digest.update(np.ascontiguousarray(node.value).tobytes())
    return digest.hexdigest()


def _compiled(plan: Plan, seed: np.ndarray) -> Callable[..., Any] | None:
    """The Hessian of <output, seed> by sympy.diff twice, lambdified for mpmath (cached)."""
    key = _key(plan, seed)
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key]
    forms = closed_form.closed_forms(plan, seed)
    fn = None
    if forms is not None and _hessian_size(forms) <= HESSIAN_TREE_MAX:
        symbols = [s for i in plan.grad_leaves() for s in closed_form._leaf_exprs(plan, i, _leaf(plan, i))]
        gradient = [e for i in plan.grad_leaves() for e in forms[i]]
        hessian = [[_almost_everywhere(sp.diff(g, x)) for x in symbols] for g in gradient]  # sympy.diff twice
        fn = sp.lambdify(symbols, hessian, "mpmath")
    _COMPILED[key] = fn
    if len(_COMPILED) > CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return fn


def _hessian_size(forms: dict[int, list[sp.Expr]]) -> int:
    """Differentiable elements x nodes of the gradient's trees: the work of differentiating it again."""
    gradient = [e for exprs in forms.values() for e in exprs]
    return len(gradient) * sum(closed_form.tree_size(e, HESSIAN_TREE_MAX + 1) for e in gradient)


def _almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """DiracDelta (the derivative of a Heaviside: relu'', abs'') is 0 away from its kink and
    undefined on it, where the order-2 kink test decides; Heaviside(0) stays SymPy's 1/2."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def symbolic_hvps(plan: Plan, seed: np.ndarray, vs: np.ndarray) -> np.ndarray | None:
    """[directions, elements] from SymPy second derivatives, or None when too large."""
    if sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves()) > SYMBOLIC_MAX:
        return None
    fn = _compiled(plan, seed)
    if fn is None:
        return None
    values = [x for i in plan.grad_leaves() for x in np.asarray(_leaf(plan, i).value, np.float64).ravel().tolist()]
    with mpmath.workdps(30):
        table = fn(*[mpmath.mpf(x) for x in values])
        h = np.array([[_real(e) for e in row] for row in table], dtype=np.float64)
    return vs @ h


def _real(value: Any) -> float:
    """A real second derivative; NaN where SymPy's expression went complex (log or sqrt of a
    negative number: the function is not real there)."""
    if isinstance(value, mpmath.mpc):
        return float(value.real) if value.imag == 0 else math.nan
    return float(value)
