"""Whether a claimed gradient agrees with the witnesses, decided before any report is built.

``check`` compares every pair of witnesses on every leaf and writes the figures of each pair.
A caller that only needs to know whether the claimed gradient holds (``crossgrad.torch.gradcheck``
on a repeated call) asks :func:`claimed_agrees` first: True when, on every differentiable leaf,
the claimed gradient and each of the given witnesses' are finite, of the leaf's shape and within
the tolerance without its floor — exactly the elements :func:`compare.compare_leaves` counts as
agreeing whatever the kink test, the floor or the other pairs say (the same limit, computed
the same way). Anything else (a difference, a non-finite value, a witness that failed or did not
run) is False: the caller then runs the full check, which judges it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

import numpy as np

from . import plan_facts
from .check import Checking
from .graph import Plan
from .precision import gradient_dtypes
from .tolerance import Tolerance, policy

_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def claimed_agrees(c: Checking, witnesses: Sequence[str] = ("symbolic", "numeric")) -> bool:
    """True when ``check`` would give every (claimed, witness) pair on every leaf the verdict agree
    with no element over the tolerance (see the module docstring); False means: not decided here."""
    if c.report.failures or c.stages:
        return False
    return grads_agree(c.plan, c.grads, c.request.tolerance, witnesses)


def grads_agree(plan: Plan, grads: dict[str, dict[int, np.ndarray]], tolerance: Tolerance | None,
                witnesses: Sequence[str] = ("symbolic", "numeric")) -> bool:
    """:func:`claimed_agrees` on the witnesses' gradients by leaf position (``grads["claimed"]``
    PyTorch's, as float64), for a caller that ran the witnesses itself."""
    claimed = grads.get("claimed")
    if claimed is None:
        return False
    for precision, leaves in plan_facts.memo(plan, "leaves by gradient dtype", _by_precision):
        rows = _rows(plan, leaves, claimed, [grads.get(w, {}) for w in witnesses], witnesses)
        if rows is None:
            return False
        tols = tuple(policy(precision, ("claimed", w), tolerance) for w in witnesses)
        if not _within(*rows, tols):
            return False
    return True


def _by_precision(plan: Plan) -> list[tuple[str, list[int]]]:
    """The differentiable leaves grouped by the dtype their gradient is computed in."""
    groups: dict[str, list[int]] = {}
    for leaf, precision in gradient_dtypes(plan).items():
        groups.setdefault(precision, []).append(leaf)
    return list(groups.items())


def _rows(plan: Plan, leaves: list[int], claimed: dict[int, np.ndarray], grads: list[dict[int, np.ndarray]],
          witnesses: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]] | None:
    """The claimed values ([elements]) and each witness's ([witnesses, elements]), the leaves side by
    side (empty leaves left out), and the leaves' sizes; None when a value is missing or misshapen."""
    left: list[np.ndarray] = []
    right: list[list[np.ndarray]] = [[] for _ in witnesses]
    sizes = []
    for leaf in leaves:
        shape = plan.shapes[leaf]
        mine = claimed.get(leaf)
        if getattr(mine, "shape", None) != shape:
            return None
        if not mine.size:  # type: ignore[union-attr]
            continue
        for k, (witness, found) in enumerate(zip(witnesses, grads)):
            g = found.get(leaf)
            if getattr(g, "shape", None) != shape:
                return None
            if witness == "numeric" and g.dtype != _DTYPES.get(plan.dtypes[leaf]):  # type: ignore[union-attr]
                return None  # check reports that as the numeric engine's finding
            right[k].append(g)  # type: ignore[arg-type]
        left.append(mine)  # type: ignore[arg-type]
        sizes.append(mine.size)  # type: ignore[union-attr]
    if not sizes:
        return np.zeros(0), np.zeros((len(witnesses), 0)), []
    both = np.concatenate([x.ravel() for x in left] + [x.ravel() for row in right for x in row]).astype(np.float64)
    n = both.size // (len(witnesses) + 1)
    return both[:n], both[n:].reshape(len(witnesses), n), sizes


@functools.lru_cache(maxsize=64)
def _columns(tols: tuple[Tolerance, ...]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([[t.rtol] for t in tols]), np.array([[t.atol] for t in tols])


def _within(a: np.ndarray, b: np.ndarray, sizes: list[int], tols: tuple[Tolerance, ...]) -> bool:
    """compare_leaves's strict test: |a - b| <= rtol max(|a|, |b|) + atol (the leaf's largest
    max(|a|, |b|)), every value finite (``a``: [elements], ``b``: [rows, elements])."""
    if not sizes:
        return True
    with np.errstate(all="ignore"):
        diff = np.abs(b - a)
        if not np.isfinite(diff).all():
            return False
        bigger = np.maximum(np.abs(b), np.abs(a))
        rtol, atol = _columns(tols)
        if len(sizes) == 1:
            allowed = atol * bigger.max(axis=1, keepdims=True)
        else:
            allowed = (atol * np.maximum.reduceat(bigger, list(itertools.accumulate([0] + sizes[:-1])), axis=1)
                       ).repeat(sizes, axis=1)
        return not bool((diff > rtol * bigger + allowed).any())
