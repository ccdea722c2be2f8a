"""How far rounding in a float forward pass can move a gradient: the tolerance's conditioning term.

A float32 witness (the numeric engine, torch's claimed gradient) runs the forward in float32, so its
gradient is the derivative at the *computed* intermediate values, not at the exact ones. Where the
graph cancels large terms (``(x + 1e4) - 1e4``, a layer norm of rows offset by 1e6, the variance
of values with a large mean) those values carry errors of eps * |terms that cancelled|, and the
gradient inherits them times the condition number: a right float32 gradient can sit 1e-3 from the
exact one. The leaf and output magnitudes cannot see that; the intermediate values can.

Model (backward stability, the property of every float kernel): each op computes the exact result
of inputs each perturbed by a relative eps, times sqrt(1 + log2 n) for an input the op sums n at a time
(a reduction, a matmul's inner dimension, a normalization's rows). The gradient's spread under such perturbations is
measured by the float64 engine: every float input of every op is multiplied by (1 + t * z), z
standard normal per element, the graph run forward and backward, and the change of each leaf's
gradient, over ROUNDS draws, scaled by eps / t, is the element's rounding spread. Relative
perturbations keep zeros and signs, so relu(0) and its kin do not move; checks whose forward
sits exactly on a kink leave this to the kink rules (engine/kinks.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import Leaf, Plan, input_indices
from .numeric.autograd import set_grad_enabled
from .numeric.dispatch import apply
from .numeric.tensor import Tensor

ROUNDS = 6
UNIT_ROUNDOFF = {"float32": 2.0 ** -24, "float64": 2.0 ** -53}
SMALLEST_STEP = 2.0 ** -40  # float64 runs resolve a relative perturbation this size
SPREAD_FACTOR = 8.0  # spreads allowed: a few random draws, and kernels whose sums round several times per input


def _leaf_tensor(node: Leaf) -> Tensor:
    value = np.asarray(node.value)
    t = Tensor._make(value.astype(np.float64) if value.dtype.kind == "f" else value.copy())
    return t.requires_grad_() if node.requires_grad else t


def _summed(op: str, position: int, size: int, out_size: int, shape: tuple[int, ...], attrs: dict) -> int:
    """How many of an input's elements the op sums into one value (its rounding compounds)."""
    if op in ("matmul", "linear") and shape and position < 2:
        return shape[-2] if op == "matmul" and position == 1 and len(shape) > 1 else shape[-1]
    if op == "batch_norm" and len(shape) > 1:
        return size // max(shape[1], 1)
    if op == "layer_norm":
        return int(np.prod(attrs.get("normalized_shape", (1,))))
    if op in ("softmax", "log_softmax", "cumsum") and shape:
        return shape[int(attrs.get("dim", -1)) % len(shape)]
    return max(size // max(out_size, 1), 1)


def _perturbed(t: Tensor | None, step: float, rng: np.random.Generator | None, summed: int = 1) -> Tensor | None:
    """``t`` times (1 + step * z) elementwise, recorded (the gradient flows through it); an input
    summed n at a time meets ~log2(n) more roundings (pairwise summation), independent ones, so
    the step grows by sqrt(1 + log2 n)."""
    if t is None or rng is None or t._data.dtype.kind != "f" or not t._data.size:
        return t
    factor = 1.0 + step * np.sqrt(1.0 + np.log2(summed)) * rng.standard_normal(t._data.shape)
    return apply("mul", (t, Tensor._make(factor)), {})


def _gradients(plan: Plan, seed: np.ndarray, step: float, rng: np.random.Generator | None) -> dict[int, np.ndarray]:
    """Leaf gradients in float64 with every op's float inputs perturbed (none when ``rng`` is None)."""
    tensors: list[Any] = []
    with set_grad_enabled(True), np.errstate(all="ignore"):
        for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
            if isinstance(node, Leaf):
                tensors.append(_leaf_tensor(node))
                continue
            with set_grad_enabled(not node.no_grad):
                out = int(np.prod(plan.shapes[i]))
                inputs = tuple([None if s is None else _perturbed(
                    tensors[s], step, rng, _summed(node.op, k, int(np.prod(plan.shapes[s])), out, plan.shapes[s],
                                                   plan.attrs[i])) for k, s in enumerate(input_indices(plan, i))])
                tensors.append(apply(node.op, inputs, plan.attrs[i]))
        out = tensors[plan.output]
        if out.requires_grad:
            out.backward(Tensor._make(np.asarray(seed, np.float64)))
    return {i: np.zeros(plan.shapes[i]) if tensors[i]._grad is None else np.asarray(tensors[i]._grad._data)
            for i in plan.grad_leaves()}


def rounding_spreads(plan: Plan, seed: np.ndarray, precision: dict[int, str]) -> dict[int, np.ndarray]:
    """Per differentiable leaf and element: how far rounding in the leaf's precision (``precision``,
    engine/precision.py) can move its gradient through the forward values (largest change over
    ROUNDS seeded draws, scaled to that precision's unit roundoff). Non-finite changes count 0."""
    base = _gradients(plan, seed, 0.0, None)
    spreads: dict[int, np.ndarray] = {}
    for dtype in sorted(set(precision.values())):
        eps = UNIT_ROUNDOFF.get(dtype, UNIT_ROUNDOFF["float64"])
        step = max(eps, SMALLEST_STEP)
        rng = np.random.default_rng(0)
        leaves = [leaf for leaf, d in precision.items() if d == dtype]
        found = {leaf: np.zeros(plan.shapes[leaf]) for leaf in leaves}
        for _ in range(ROUNDS):
            moved = _gradients(plan, seed, step, rng)
            for leaf in leaves:
                change = np.abs(moved[leaf] - base[leaf])
                found[leaf] = np.maximum(found[leaf], np.where(np.isfinite(change), change, 0.0))
        spreads.update({leaf: value * (eps / step) for leaf, value in found.items()})
    return spreads


class Spreads:
    """A check's rounding spreads by leaf, computed once and only when asked (a would-be mismatch)."""

    def __init__(self, plan: Plan, seed: np.ndarray) -> None:
        self.plan, self.seed = plan, seed
        self.found: dict[int, np.ndarray] | None = None

    def __call__(self, leaf: int) -> np.ndarray:
        if self.found is None:
            from .precision import gradient_dtypes

            self.found = rounding_spreads(self.plan, self.seed, gradient_dtypes(self.plan))
        return self.found.get(leaf, np.zeros(self.plan.shapes[leaf]))
