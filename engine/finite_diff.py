"""Finite differences: the third witness, from forward evaluations alone (float64).

Central differences of f(leaves) = <output, seed>, step h = eps64^(1/3) max(1, |x|) (the step
that balances truncation and rounding error for central differences). Per element when the
graph is small; otherwise along seeded random directions, one set per leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .graph import Plan
from .numeric.run_graph import forward_program

STEP = float(np.finfo(np.float64).eps) ** (1 / 3)
PER_ELEMENT_BUDGET = 2_000  # total differentiable elements checked one by one
DIRECTIONS = 8


@dataclass
class FiniteDifferences:
    mode: str  # "per_element" or "directions"
    seed: int | None
    grads: dict[int, np.ndarray]  # per element: the gradient estimate
    directions: dict[int, np.ndarray]  # directions mode: (k, *shape) unit directions per leaf
    slopes: dict[int, np.ndarray]  # directions mode: (k,) directional derivatives per leaf
    seed_scale: float = 1.0  # max |seed|, the scale of the tolerance floor


def _objective(plan: Plan, seed: np.ndarray) -> Callable[[dict[int, np.ndarray]], float]:
    run = forward_program(plan)

    def f(leaves: dict[int, np.ndarray]) -> float:
        with np.errstate(all="ignore"):
            return float(np.sum(run(leaves) * seed))

    return f


def _base(plan: Plan) -> dict[int, np.ndarray]:
    return {i: np.asarray(plan.graph.nodes[i].value, np.float64).copy()  # type: ignore[union-attr]
            for i in plan.grad_leaves()}


@np.errstate(all="ignore")
def central(f: Callable[[dict[int, np.ndarray]], float], base: dict[int, np.ndarray], leaf: int,
            delta: np.ndarray) -> float:
    """(f(x + delta) - f(x - delta)) / 2, the caller divides by the step."""
    plus = dict(base)
    minus = dict(base)
    plus[leaf] = base[leaf] + delta
    minus[leaf] = base[leaf] - delta
    return (f(plus) - f(minus)) / 2


def one_sided(plan: Plan, seed: np.ndarray, leaf: int, index: tuple[int, ...]) -> tuple[float, float]:
    """Left and right difference quotients at one element (for kinks)."""
    f = _objective(plan, seed)
    base = _base(plan)
    x = base[leaf]
    h = STEP * max(1.0, abs(float(x[index])))
    here = f(base)
    delta = np.zeros_like(x)
    delta[index] = h
    plus, minus = dict(base), dict(base)
    plus[leaf], minus[leaf] = x + delta, x - delta
    return (here - f(minus)) / h, (f(plus) - here) / h


def finite_differences(plan: Plan, seed: np.ndarray, rng_seed: int = 0,
                       budget: int = PER_ELEMENT_BUDGET) -> FiniteDifferences:
    f = _objective(plan, np.asarray(seed, np.float64))
    base = _base(plan)
    total = sum(v.size for v in base.values())
    if total <= budget:
        return FiniteDifferences("per_element", None, _per_element(f, base), {}, {})
    rng = np.random.default_rng(rng_seed)
    directions, slopes = {}, {}
    for leaf, x in base.items():
        d = rng.standard_normal((DIRECTIONS,) + x.shape)
        d /= np.sqrt((d**2).reshape(DIRECTIONS, -1).sum(axis=1)).reshape((DIRECTIONS,) + (1,) * x.ndim)
        h = STEP * max(1.0, float(np.abs(x).max(initial=0.0)))
        directions[leaf] = d
        slopes[leaf] = np.array([central(f, base, leaf, h * dk) / h for dk in d])
    return FiniteDifferences("directions", rng_seed, {}, directions, slopes,
                             float(np.abs(seed).max(initial=0.0)))


def _per_element(f: Callable[[dict[int, np.ndarray]], float],
                 base: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    grads = {}
    for leaf, x in base.items():
        g = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            h = STEP * max(1.0, abs(float(x[index])))
            delta = np.zeros_like(x)
            delta[index] = h
            g[index] = central(f, base, leaf, delta) / h
        grads[leaf] = g
    return grads
