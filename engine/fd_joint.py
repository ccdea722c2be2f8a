"""Finite differences along joint directions: on a large graph with several leaves, a few seeded
directions move every leaf at once, so the third witness costs 2 x JOINT_DIRECTIONS forward
passes whatever the number of leaves (per-leaf directions cost that per leaf; finite_diff.
planned_work, which the limits use, still counts per-leaf directions: the worst case, when the
screen hands every leaf its own).

A joint slope is one number for all leaves, so it says nothing about which leaf is wrong. It is
a screen: each witness's gradients, projected on the same directions, must reproduce the
slopes. Where anything disagrees — a witness's projection is off the slopes, or numeric and
symbolic differ on a leaf — those leaves get their own per-leaf directions
(finite_diff.py), and the report compares them leaf by leaf as before; only leaves where
everything agreed keep the joint comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import finite_diff as F
from .allocator import keep_freed_memory
from .compare import AGREE, agrees, compare
from .graph import Plan
from .tolerance import Tolerance, policy

JOINT_DIRECTIONS = 4
# A joint direction moves every leaf, so it crosses L times more kinks (relu, max-pool ties) within
# the step than one leaf's: the screen steps 64x shorter than finite_diff.STEP. Its extra rounding
# noise can only make the screen disagree, which costs the per-leaf pass, never a missed error.
JOINT_STEP = F.STEP / 64
# Every leaf moves, so every node holds copies: a batch is kept to this many elements in the
# widest node (one direction's two copies of a LeNet at batch 64), which bounds the check's memory
# at a few forward passes' worth.
JOINT_BATCH_ELEMENTS = 1 << 19
MIN_LEAVES = 2  # a single leaf's per-leaf directions are already one set


@dataclass
class JointDifferences(F.FiniteDifferences):
    """Directions mode where ``joint`` leaves share the joint slopes; the others are per leaf."""

    joint: list[int] = field(default_factory=list)
    weights: dict[int, float] = field(default_factory=dict)  # per joint leaf: its part's step over STEP
    projections: dict[str, np.ndarray] = field(default_factory=dict)  # witness -> its joint slopes
    refined: list[int] = field(default_factory=list)  # leaves given per-leaf directions after the screen

    def project(self, leaf: int, grad: np.ndarray, witness: str | None = None) -> np.ndarray:
        if leaf in self.joint and witness is not None:
            return self.projections[witness]
        return super().project(leaf, grad)

    def joint_projection(self, grads: dict[int, np.ndarray]) -> np.ndarray:
        """A witness's gradients along the joint directions (comparable with the joint slopes)."""
        total = np.zeros(JOINT_DIRECTIONS)
        for leaf in self.joint:
            signs = self.directions[leaf].reshape(JOINT_DIRECTIONS, -1)
            total += self.weights[leaf] * (signs @ np.asarray(grads[leaf], np.float64).reshape(-1))
        return total


def finite_differences(plan: Plan, seed: np.ndarray, rng_seed: int = 0) -> F.FiniteDifferences:
    """Per element on small graphs, per-leaf directions for one leaf, joint directions otherwise."""
    if len(plan.grad_leaves()) < MIN_LEAVES or F.planned_work(plan)[0] == "per_element":
        return F.finite_differences(plan, seed, rng_seed)
    return _joint(plan, np.asarray(seed, np.float64), rng_seed)


@np.errstate(all="ignore")
def _joint(plan: Plan, seed: np.ndarray, rng_seed: int) -> JointDifferences:
    keep_freed_memory()  # copies of every node: multi-MB arrays that would page-fault in on each batch
    base = F._base(plan)
    rng = np.random.default_rng(rng_seed)
    signs = {leaf: F._random_signs(rng, (JOINT_DIRECTIONS,) + x.shape) for leaf, x in base.items()}
    weights = {leaf: max(1.0, float(np.abs(x).max(initial=0.0))) * F._unit_scale(x.size) for leaf, x in base.items()}

    def deltas(start: int, stop: int) -> dict[int, np.ndarray]:
        return {leaf: s[start:stop] * (JOINT_STEP * weights[leaf]) for leaf, s in signs.items()}

    objective = F._Objective(plan, seed, base)
    slopes = objective.central(list(base), JOINT_DIRECTIONS, deltas, JOINT_BATCH_ELEMENTS) / JOINT_STEP
    return JointDifferences("directions", rng_seed, {}, signs, {leaf: slopes for leaf in base},
                            float(np.abs(seed).max(initial=0.0)), joint=list(base), weights=weights)


def settle(fd: F.FiniteDifferences, plan: Plan, seed: np.ndarray, grads: dict[str, dict[int, np.ndarray]],
           override: Tolerance | None = None) -> None:
    """After the other witnesses answered: give per-leaf directions to every leaf the joint
    screen cannot vouch for (all of them when a witness's joint projection is off)."""
    if not isinstance(fd, JointDifferences):
        return
    strict = "float64" if any(plan.dtypes[i] == "float64" for i in fd.joint) else "float32"
    off = False
    for witness in ("numeric", "symbolic"):
        found = grads.get(witness, {})
        if not all(leaf in found and np.shape(found[leaf]) == tuple(plan.shapes[leaf]) for leaf in fd.joint):
            off = off or bool(found)
            continue
        fd.projections[witness] = fd.joint_projection(found)
        tol = policy(strict, (witness, "finite_difference"), override)
        result = compare((witness, "finite_difference"), fd.projections[witness], fd.slopes[fd.joint[0]], strict,
                         tol, unit="directions", seed_scale=fd.seed_scale)
        off = off or result.verdict != AGREE
    refine = list(fd.joint) if off else _differing(plan, grads, override)
    if refine:
        _per_leaf(fd, plan, seed, refine)


def _differing(plan: Plan, grads: dict[str, dict[int, np.ndarray]], override: Tolerance | None) -> list[int]:
    """Leaves where numeric and symbolic disagree (finite differences must decide there)."""
    numeric, symbolic = grads.get("numeric", {}), grads.get("symbolic", {})
    out = []
    for leaf in plan.grad_leaves():
        a, b = numeric.get(leaf), symbolic.get(leaf)
        if a is None or b is None or np.shape(a) != np.shape(b):
            continue
        if not agrees(a, b, policy(plan.dtypes[leaf], ("numeric", "symbolic"), override)):
            out.append(leaf)
    return out


@np.errstate(all="ignore")
def _per_leaf(fd: JointDifferences, plan: Plan, seed: np.ndarray, leaves: list[int]) -> None:
    """finite_diff's per-leaf directions for ``leaves`` (seeded by the check's seed and the leaf)."""
    base = F._base(plan)
    objective = F._Objective(plan, np.asarray(seed, np.float64), base)
    for leaf in leaves:
        x = base[leaf]
        rng = np.random.default_rng([fd.seed or 0, leaf])
        signs = F._random_signs(rng, (F.DIRECTIONS,) + x.shape)
        h = F.STEP * max(1.0, float(np.abs(x).max(initial=0.0)))
        fd.directions[leaf] = signs
        rows = F._scaled_rows(leaf, signs, h * F._unit_scale(x.size))
        fd.slopes[leaf] = objective.central([leaf], F.DIRECTIONS, rows) / h
        fd.joint.remove(leaf)
        fd.refined.append(leaf)


def describe(fd: F.FiniteDifferences) -> str:
    """The report's finite-difference mode."""
    if fd.mode == "per_element":
        return "per_element"
    if not isinstance(fd, JointDifferences):
        return f"directions (seed {fd.seed})"
    if not fd.refined:
        return f"directions (seed {fd.seed}), {JOINT_DIRECTIONS} joint directions moving every leaf at once"
    if not fd.joint:
        return f"directions (seed {fd.seed}), per leaf (the joint screen disagreed)"
    return (f"directions (seed {fd.seed}), joint for {len(fd.joint)} leaves, per leaf for {len(fd.refined)} "
            "where the witnesses differ")
