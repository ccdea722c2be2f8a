"""How large the numbers are that a leaf's gradient is computed from (the tolerance floor's scale).

The floor covers rounding noise on a gradient that cancels to ~0 (``softmax(x).sum()``): that
noise is eps times the terms that cancelled, not eps times the seed. Those terms are measured by
a backward pass whose adjoints have random signs at every node (each node's incoming adjoint is
multiplied elementwise by a random sign and a random factor in [0.5, 1.5) before its VJP), which
keeps their size and breaks the structured cancellation: softmax's VJP of a scrambled adjoint is as
large as its terms. Signs alone are not enough: a short row can draw the same sign everywhere
(a 3-element softmax row, 1 in 4), and softmax's VJP of a constant row is 0 again. A gradient
scaled down by 1e-7 has terms scaled by 1e-7 too, so a sign flip there is never "noise".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import Plan
from .magnitude_terms import term_vjp
from .numeric.run_graph import float64_gradients

ROUNDS = 2


def _scrambled(vjp: Any, rng: np.random.Generator) -> Any:
    def run(g: np.ndarray, saved: Any, node: Any) -> Any:
        shape = np.shape(g)
        return vjp(g * (rng.choice((-1.0, 1.0), size=shape) * rng.uniform(0.5, 1.5, size=shape)), saved, node)
    return run


def _one_round(plan: Plan, seed: np.ndarray, rng: np.random.Generator) -> dict[int, float]:
    def replace(i: int, node: Any) -> Any:
        if not hasattr(node, "vjp"):
            return None
        return _scrambled(term_vjp(getattr(plan.graph.nodes[i], "op", ""), node.vjp), rng)

    grads = float64_gradients(plan, np.abs(np.asarray(seed, np.float64)), replace)
    return {i: float(np.max(np.where(np.isfinite(g), np.abs(g), 0.0), initial=0.0)) for i, g in grads.items()}


def flowing_magnitudes(plan: Plan, seed: np.ndarray) -> dict[int, float]:
    """Per differentiable leaf: the largest sign-scrambled gradient element over a few rounds
    (seeded, so a check is reproducible)."""
    rng = np.random.default_rng(0)
    rounds = [_one_round(plan, seed, rng) for _ in range(ROUNDS)]
    return {leaf: max(r[leaf] for r in rounds) for leaf in rounds[0]}

