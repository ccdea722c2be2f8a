"""Kinks at order 2: the same convention logic as first order, one derivative up.

relu'' and abs'' are 0 almost everywhere and undefined on their kink; a maximum tie or a clamp
bound likewise. When some kink op of the graph sits exactly on its kink, an over-tolerance
Hessian-vector element (direction d, element e) is a convention difference when both values lie
between the one-sided difference quotients of the engine's gradient along v_d,

    left = (g(x) - g(x - h v_d)) / h,   right = (g(x + h v_d) - g(x)) / h,

and those two differ (a real jump of the second derivative), with the slack first order uses.
Where the gradient itself jumps along v_d at the element (a tie of amax, max(), maximum: its
one-sided change over the step is a fraction of the gradient, not ~h H v), no second derivative
exists and any finite answer is a convention; so it is where the direction breaks a tie that
makes the gradient set-valued at the point (hessian_ties.py: max pooling, max(dim)).
The engine's double backward picks PyTorch's branch (relu''(0) = 0 from relu'(0) = 0), SymPy's
Heaviside(0) = 1/2 gives a midpoint, central differences another: each is a valid answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .compare import KinkTest
from .graph import Plan
from .hessian_ties import TieWidths
from .tolerance import Tolerance

STEP = 1e-6  # relative step of the one-sided quotients
# a one-sided change of the gradient over that step beyond this fraction of its size is a jump of
# the gradient (amax's even split at a tie moves to one element), not curvature: h |H v| ~ 1e-6 |H v|
JUMP = 1e-3


def kink_tests(plan: Plan, seed: np.ndarray, vs: np.ndarray) -> Callable[[int, Tolerance], KinkTest] | None:
    """(differentiable leaf, a pair's tolerance) -> the order-2 kink test for that leaf's
    elements; None when no kink op sits on its kink."""
    from .check import kinks_present

    if kinks_present(plan) is None:
        return None
    quotients = _Quotients(plan, seed, vs)
    starts, start = {}, 0
    for i in plan.grad_leaves():
        starts[i] = start
        start += math.prod(plan.shapes[i])
    return lambda leaf, tol: _test(quotients, starts[leaf], plan.shapes[leaf], tol.rtol)


class _Quotients:
    """One-sided quotients of the float64 engine gradient along each direction, computed lazily."""

    def __init__(self, plan: Plan, seed: np.ndarray, vs: np.ndarray) -> None:
        from .hessian import _leaf

        self.plan, self.seed, self.vs = plan, seed, vs
        self.base = {i: np.asarray(_leaf(plan, i).value, np.float64) for i in plan.grad_leaves()}
        scale = max((float(np.abs(b).max(initial=0)) for b in self.base.values()), default=0.0)
        self.h = STEP * max(1.0, scale)
        self.centre = self._gradient(0, 0.0)
        self.size = float(np.abs(self.centre).max(initial=0.0))  # the gradient's scale, for jumps
        self.found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.ties = TieWidths(plan, seed, vs, self.h)

    def _gradient(self, d: int, sign: float) -> np.ndarray:
        from .hessian import _flat, _grads, _run, _split

        moved = {i: self.base[i] + sign * self.h * p for i, p in zip(self.base, _split(self.vs[d], self.plan))}
        leaves, out = _run(self.plan, moved, as_float64=True)
        return _flat(_grads(leaves, out, self.seed, create_graph=False), self.plan)

    def at(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left, right, rounding noise) along direction d, for every element."""
        if d not in self.found:
            with np.errstate(all="ignore"):
                plus, minus = self._gradient(d, 1.0), self._gradient(d, -1.0)
                self.found[d] = ((self.centre - minus) / self.h, (plus - self.centre) / self.h)
        left, right = self.found[d]
        noise = 8 * np.finfo(np.float64).eps * np.abs(self.centre) / self.h
        return left, right, noise


def _test(quotients: _Quotients, start: int, shape: tuple[int, ...], rtol: float) -> KinkTest:
    def at_kink(index: tuple[int, ...], a: float, b: float) -> bool:
        d = index[0]
        element = start + (int(np.ravel_multi_index(index[1:], shape)) if shape else 0)
        left, right, noise = (float(q[element]) for q in quotients.at(d))
        lo, hi = min(left, right), max(left, right)
        if max(abs(lo), abs(hi)) * quotients.h > JUMP * quotients.size:
            return True  # the gradient itself jumps here (a tie of amax/max/maximum): no second derivative
        if quotients.ties.broken(d, element, JUMP * quotients.size):
            return True  # a tie this direction breaks: the gradient is set-valued here (hessian_ties.py)
        slack = 10 * (STEP + rtol) * max(abs(lo), abs(hi)) + noise
        return hi - lo > slack and all(lo - slack <= v <= hi + slack for v in (a, b))

    return at_kink
