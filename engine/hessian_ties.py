"""Ties at order 2: where a direction breaks a tie, the gradient is set-valued at the point.

At a tie of max pooling or max(dim) (or amax, max()) each tied element's gradient may take any
share of the window's gradient: PyTorch gives all of it to one element, SymPy's Heaviside(0) = 1/2
gives each a half. Moving along a direction that breaks the tie, every convention's gradient goes
to the unique winner, so at such an element the second derivative does not exist and any finite
answer is a convention (the one-sided quotients of PyTorch's own gradient, 0 and 0 for an element
that was not the first maximum, miss SymPy's half). The set of gradients at a point is the hull of
kinks.py's branch choices; the tie is broken along v_d at an element when that hull is wide at x
and narrower at x + h v_d or x - h v_d. A direction that leaves the tie alone keeps the ordinary
one-sided quotient test, so a wrong second derivative away from the tie is still a mismatch.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import kinks
from .graph import Graph, Leaf, Plan
from .numeric.run_graph import forward_values


class TieWidths:
    """Per element, the width of the first-order gradient's hull at x and along each direction."""

    def __init__(self, plan: Plan, seed: np.ndarray, vs: np.ndarray, h: float) -> None:
        self.plan, self.seed, self.vs, self.h = plan, seed, vs, h
        self.sizes = [math.prod(plan.shapes[i]) for i in plan.grad_leaves()]
        self.found: dict[tuple[int, float], np.ndarray] = {}

    def width(self, d: int, sign: float) -> np.ndarray:
        """Flat widths at x + sign h v_d (sign 0: at x itself)."""
        key = (d if sign else -1, sign)
        if key not in self.found:
            self.found[key] = self._width(self._moved(d, sign) if sign else self.plan)
        return self.found[key]

    def broken(self, d: int, element: int, tolerance: float) -> bool:
        """Whether element sits on a tie that direction d breaks (its hull narrows on one side)."""
        here = float(self.width(d, 0.0)[element])
        if here <= tolerance:
            return False
        return min(float(self.width(d, s)[element]) for s in (1.0, -1.0)) < here - tolerance

    def _width(self, plan: Plan) -> np.ndarray:
        with np.errstate(all="ignore"):
            found = kinks.hulls(plan, self.seed, forward_values(plan))
        parts = [np.zeros(n) if found is None or i not in found else (found[i][1] - found[i][0]).ravel()
                 for i, n in zip(plan.grad_leaves(), self.sizes)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _moved(self, d: int, sign: float) -> Plan:
        offsets = np.split(self.vs[d], np.cumsum(self.sizes)[:-1])
        moved = dict(zip(self.plan.grad_leaves(), offsets))
        nodes = tuple(dataclasses.replace(n, value=np.asarray(n.value, np.float64) + sign * self.h *
                                          moved[k].reshape(np.shape(n.value)))
                      if isinstance(n, Leaf) and k in moved else n
                      for k, n in enumerate(self.plan.graph.nodes))
        return dataclasses.replace(self.plan, graph=Graph(nodes, self.plan.graph.output))
