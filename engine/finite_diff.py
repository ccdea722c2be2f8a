"""Finite differences: the third witness, from forward evaluations alone (float64).

Central differences of f(leaves) = <output, seed>, step h = eps64^(1/3) max(1, |x|) (the step
that balances truncation and rounding error for central differences). Per element when the
graph is small; otherwise along seeded random directions, one set per leaf: random signs
scaled to unit length (Rademacher directions; drawing them costs a fraction of Gaussian ones
on the MLP's 401,408-weight layer). All the perturbed copies of a leaf go through the graph
together, in batches (numeric/batched.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import parallel
from .graph import Plan
from .numeric.batched import Batched
from .numeric.run_graph import evaluator

STEP = float(np.finfo(np.float64).eps) ** (1 / 3)
SECOND_STEP = 0.37  # the second step of an error estimate, as a fraction of the first
PER_ELEMENT_BUDGET = 2_000  # total differentiable elements checked one by one
PER_ELEMENT_WORK = 200_000_000  # element evaluations per-element differences may cost (~0.3 s); beyond: directions
DIRECTIONS = 8
BATCH_ELEMENTS = 1 << 21  # elements one batch of perturbed copies may hold at once (live values of a copy)


@dataclass
class FiniteDifferences:
    mode: str  # "per_element" or "directions"
    seed: int | None
    grads: dict[int, np.ndarray]  # per element: the gradient estimate
    directions: dict[int, np.ndarray]  # directions mode: (k, *shape) int8 signs; unit d = signs / sqrt(n)
    slopes: dict[int, np.ndarray]  # directions mode: (k,) directional derivatives per leaf
    seed_scale: float = 1.0  # max |seed|, the scale of the tolerance floor

    def project(self, leaf: int, grad: np.ndarray, witness: str | None = None) -> np.ndarray:
        """A gradient's derivatives along this leaf's directions (to compare with ``slopes``)."""
        signs = self.directions[leaf]
        flat = signs.reshape(len(signs), -1)
        return flat @ np.asarray(grad, np.float64).reshape(-1) * _unit_scale(flat.shape[1])


# deltas(start, stop) -> the perturbations start..stop of the leaves they move, each
# (stop - start, *leaf_shape); a leaf left out stays at its base value in those copies
Deltas = Callable[[int, int], dict[int, np.ndarray]]


class _Objective:
    """f = <output, seed> at the base point moved by each of many perturbations."""

    def __init__(self, plan: Plan, seed: np.ndarray, base: dict[int, np.ndarray]) -> None:
        self.seed, self.base = seed, base
        self.batched = Batched(plan, base)

    def central(self, leaves: list[int], count: int, deltas: Deltas,
                batch_elements: int = BATCH_ELEMENTS) -> np.ndarray:
        """(f(x + d) - f(x - d)) / 2 for the ``count`` perturbations of ``leaves`` that ``deltas``
        yields, a batch at a time (as many as keep ``batch_elements`` in one copy's live values)."""
        plus, minus = self.sides(leaves, count, deltas, batch_elements)
        return (plus - minus) / 2

    def sides(self, leaves: list[int], count: int, deltas: Deltas,
              batch_elements: int = BATCH_ELEMENTS) -> tuple[np.ndarray, np.ndarray]:
        """f(x + d) and f(x - d) for each perturbation, a batch at a time."""
        per_batch = max(1, batch_elements // max(1, 2 * self.batched.widest(leaves)))
        # batches are items for the threads: the same stacks as one thread's, so the same bits (a
        # batch split into its two sides computed some conv products with other GEMM shapes)
        parts = parallel.map_ordered(lambda at: self._sides(deltas(at, min(at + per_batch, count))),
                                     range(0, count, per_batch), parallel.worth_it(self.batched.plan))
        if not parts:
            return np.zeros(0), np.zeros(0)
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p for p, _ in parts]), np.concatenate([m for _, m in parts])

    def side(self, leaves: list[int], count: int, deltas: Deltas, sign: float,
             batch_elements: int = BATCH_ELEMENTS) -> np.ndarray:
        """f(x + sign d) for each perturbation alone, a batch at a time (the other side of
        ``sides``, or one side of it; each copy computed as ``sides`` computes it)."""
        per_batch = max(1, batch_elements // max(1, self.batched.widest(leaves)))
        parts = parallel.map_ordered(lambda at: self._side(deltas(at, min(at + per_batch, count)), sign),
                                     range(0, count, per_batch), parallel.worth_it(self.batched.plan))
        return np.concatenate(parts) if parts else np.zeros(0)

    def _side(self, deltas: dict[int, np.ndarray], sign: float) -> np.ndarray:
        stacks = {}
        for leaf, d in deltas.items():
            stacks[leaf] = stack = np.empty(d.shape)
            (np.add if sign > 0 else np.subtract)(self.base[leaf], d, out=stack)
        out = self.batched.outputs(stacks)
        return (out * self.seed).reshape(len(out), -1).sum(axis=1)

    def _sides(self, deltas: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        k = len(next(iter(deltas.values())))
        stacks = {}
        for leaf, d in deltas.items():
            x = self.base[leaf]
            stacks[leaf] = stack = np.empty((2 * k,) + x.shape)
            np.add(x, d, out=stack[:k])
            np.subtract(x, d, out=stack[k:])
        out = self.batched.outputs(stacks)
        f = (out * self.seed).reshape(len(out), -1).sum(axis=1)
        return f[:k], f[k:]

    def at_base(self) -> float:
        """f at the unmoved point."""
        leaf = next(iter(self.base))
        return float((self.batched.outputs({leaf: self.base[leaf][None]}) * self.seed).sum())


def _base(plan: Plan) -> dict[int, np.ndarray]:
    return {i: np.asarray(plan.graph.nodes[i].value, np.float64).copy()  # type: ignore[union-attr]
            for i in plan.grad_leaves()}


def one_sided(plan: Plan, seed: np.ndarray, leaf: int, index: tuple[int, ...]) -> tuple[float, float, float]:
    """Left and right difference quotients at one element (for kinks), and a bound on their
    rounding noise (a few eps of the function's size, over the step)."""
    base = _base(plan)
    x = base[leaf]
    h = STEP * max(1.0, abs(float(x[index])))
    copies = np.stack([x, x, x])
    copies[(1, *index)] -= h  # indexed as one tuple: a 0-d leaf's copy is a scalar, not a view
    copies[(2, *index)] += h
    with np.errstate(all="ignore"):
        out = Batched(plan, base).outputs({leaf: copies})
    here, minus, plus = (float(np.sum(o * seed)) for o in out)
    noise = 8 * np.finfo(np.float64).eps * max(abs(here), abs(minus), abs(plus)) / h
    return (here - minus) / h, (plus - here) / h, float(noise)


def _downstream_elements(plan: Plan, batched: Batched, leaves: list[int]) -> int:
    """Elements one perturbed copy computes: every op node downstream of ``leaves``."""
    return sum(math.prod(plan.shapes[i]) for i in batched.downstream(leaves))


def planned_work(plan: Plan, budget: int = PER_ELEMENT_BUDGET) -> tuple[str, int]:
    """The mode finite differences will use and the element evaluations it costs (both signs of
    every perturbation through everything downstream of what it moves): per element for few
    leaf elements whose copies are cheap, else DIRECTIONS seeded directions per leaf."""
    leaves = plan.grad_leaves()
    batched = Batched(plan, {})
    total = sum(math.prod(plan.shapes[i]) for i in leaves)
    if leaves and total <= budget:
        work = 2 * total * _downstream_elements(plan, batched, leaves)
        if work <= PER_ELEMENT_WORK:
            return "per_element", work
    return "directions", sum(2 * DIRECTIONS * _downstream_elements(plan, batched, [leaf]) for leaf in leaves)


@np.errstate(all="ignore")
def finite_differences(plan: Plan, seed: np.ndarray, rng_seed: int = 0,
                       budget: int = PER_ELEMENT_BUDGET) -> FiniteDifferences:
    seed = np.asarray(seed, np.float64)
    base = _base(plan)
    objective = _Objective(plan, seed, base)
    if planned_work(plan, budget)[0] == "per_element":
        return FiniteDifferences("per_element", None, _per_element(objective, base), {}, {})
    rng = np.random.default_rng(rng_seed)
    directions, slopes = {}, {}
    for leaf, x in base.items():
        signs = _random_signs(rng, (DIRECTIONS,) + x.shape)
        h = STEP * max(1.0, float(np.abs(x).max(initial=0.0)))
        directions[leaf] = signs
        slopes[leaf] = objective.central([leaf], DIRECTIONS, _scaled_rows(leaf, signs, h * _unit_scale(x.size))) / h
    return FiniteDifferences("directions", rng_seed, {}, directions, slopes,
                             float(np.abs(seed).max(initial=0.0)))


def _unit_scale(size: int) -> float:
    """What turns a vector of ``size`` random signs into a unit direction."""
    return 1.0 / float(np.sqrt(max(size, 1)))


def _random_signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Independent fair +1/-1 entries (int8), eight per random byte."""
    count = math.prod(shape)
    bits = np.unpackbits(rng.integers(0, 256, (count + 7) // 8, dtype=np.uint8))[:count].view(np.int8)
    signs = bits * np.int8(2)
    signs -= 1
    return signs.reshape(shape)


def _scaled_rows(leaf: int, signs: np.ndarray, step: float) -> Deltas:
    """Perturbations start..stop of one leaf: the sign rows times the step (made a batch at a time)."""
    return lambda start, stop: {leaf: signs[start:stop] * step}


def _per_element(objective: _Objective, base: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """One central difference per element, step h_k = STEP max(1, |x_k|). Perturbation k moves
    element k of all the leaves' elements in a row, so one batch can span several leaves."""
    leaves = list(base)
    if not leaves:
        return {}
    steps = {leaf: STEP * np.maximum(1.0, np.abs(x.reshape(-1))) for leaf, x in base.items()}
    offsets = list(itertools.accumulate([x.size for x in base.values()], initial=0))

    def deltas(start: int, stop: int) -> dict[int, np.ndarray]:
        moved = {}
        for leaf, first, end in zip(leaves, offsets, offsets[1:]):
            rows = np.arange(max(start, first), min(stop, end))  # the perturbations that move this leaf
            if rows.size:
                d = np.zeros((stop - start, end - first))
                d[rows - start, rows - first] = steps[leaf][rows - first]
                moved[leaf] = d.reshape((stop - start,) + base[leaf].shape)
        return moved

    slopes = objective.central(leaves, offsets[-1], deltas)
    return {leaf: (slopes[first:end] / steps[leaf]).reshape(base[leaf].shape)
            for leaf, first, end in zip(leaves, offsets, offsets[1:])}


def error_estimates(plan: Plan, seed: np.ndarray, leaf: int, indices: list[tuple[int, ...]],
                    estimates: np.ndarray) -> np.ndarray:
    """How far the per-element central differences at ``indices`` may be from the derivative:
    their change when the step shrinks by SECOND_STEP (truncation, and rounding that does not
    shrink with the step) plus a bound on rounding, eps |f| / h. Both steps in one batched forward.
    The factor is not a power of two: halving a binary step can reproduce the same rounding."""
    seed = np.asarray(seed, np.float64)
    base = _base(plan)
    x = base[leaf]
    objective = _Objective(plan, seed, base)
    steps = STEP * np.maximum(1.0, np.abs(np.array([x[i] for i in indices], np.float64)))
    count = len(indices)

    def deltas(start: int, stop: int) -> dict[int, np.ndarray]:
        d = np.zeros((stop - start,) + x.shape)
        for row, k in enumerate(range(start, stop)):
            d[(row, *indices[k % count])] = steps[k % count] * (1.0 if k < count else SECOND_STEP)
        return {leaf: d}

    slopes = objective.central([leaf], 2 * count, deltas)
    second = slopes[count:] / (steps * SECOND_STEP)
    return np.abs(np.asarray(estimates, np.float64) - second) + _rounding(objective, leaf, steps)


def direction_error_estimates(plan: Plan, seed: np.ndarray, leaf: int, signs: np.ndarray, rows: list[int],
                              slopes: np.ndarray) -> np.ndarray:
    """The same error bound for the directional differences ``rows`` (of ``signs``, as
    finite_differences drew them): the slope again with the step times SECOND_STEP, plus rounding."""
    seed = np.asarray(seed, np.float64)
    base = _base(plan)
    x = base[leaf]
    objective = _Objective(plan, seed, base)
    h = STEP * max(1.0, float(np.abs(x).max(initial=0.0)))
    small = h * SECOND_STEP
    second = objective.central([leaf], len(rows), _scaled_rows(leaf, signs[rows], small * _unit_scale(x.size))) / small
    return np.abs(np.asarray(slopes, np.float64)[rows] - second) + _rounding(objective, leaf, h) + \
        _kink_spread(objective, leaf, signs[rows], h)


def _kink_spread(objective: _Objective, leaf: int, signs: np.ndarray, h: float) -> np.ndarray:
    """|right - left| one-sided slopes along each direction: O(h) where f is smooth, the jump of
    the derivative where the step crosses a kink (a relu or a max-pool tie among millions of
    elements), which the central quotient averages over."""
    x = objective.base[leaf]
    plus, minus = objective.sides([leaf], len(signs), _scaled_rows(leaf, signs, h * _unit_scale(x.size)))
    here = objective.at_base()
    return np.abs((plus - here) - (here - minus)) / h


def _rounding(objective: _Objective, leaf: int, steps: Any) -> Any:
    """A bound on the rounding in a central difference of f with these steps: eps m / h, where m
    is the largest sum over a node of |value x d f / d value| (what f's sums may cancel: f itself
    can be 0), times 8 plus the log2 of the widest value (n terms summed round log2 n deeper)."""
    from .localize import numeric_adjoints

    plan = objective.batched.plan
    values = evaluator(plan)(objective.base)
    size = float(np.abs(values[plan.output] * objective.seed).sum())
    try:
        adjoints = numeric_adjoints(plan, objective.seed)
    except Exception:  # noqa: BLE001  (a broken numeric rule is the report's finding, not this bound's)
        adjoints = {}
    for i, (adjoint, _) in adjoints.items():
        with np.errstate(all="ignore"):  # -inf where a mask's adjoint is 0: no term of f
            terms = np.abs(np.asarray(values[i], np.float64) * adjoint)
        size = max(size, float(terms[np.isfinite(terms)].sum()))
    depth = 8 + math.log2(max(2, objective.batched.widest([leaf])))
    return depth * np.finfo(np.float64).eps * max(size, 1e-300) / steps
