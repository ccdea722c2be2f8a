"""Per-element finite differences of many requests of one structure in one batched forward.

Request r's copies are its own leaf values with one element moved by +-h (finite_diff's
per-element perturbations, the same steps and the same order), so request r's quotients are
exactly those ``finite_diff.finite_differences`` gives it alone. Leaves equal in every request
stay unbatched (as the unperturbed leaves of one request do); a leaf that differs is stacked
per copy in its own dtype. matmul with both operands stacked runs as stacked matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import finite_diff as F
from .graph import Leaf, Plan
from .numeric.batched import TABLE, Batched, Forward, _loop

COPY_ELEMENTS = F.BATCH_ELEMENTS  # the live elements of one forward's copies (as finite_diff's batches)


def _matmul_stacked(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> np.ndarray:
    """Both operands stacked: vectors become a row / a column, then numpy's stacked matmul."""
    if not all(flags):
        return TABLE["matmul"](fwd, xs, flags, at, shapes, out)
    (a, b), (sa, sb) = xs, shapes
    if len(sa) > 2 or len(sb) > 2:
        return _loop(fwd, xs, flags, at, shapes, out)
    a2 = a[:, None, :] if len(sa) == 1 else a
    b2 = b[..., None] if len(sb) == 1 else b
    return np.matmul(a2, b2).reshape((len(a),) + tuple(out))


class _Stacked(Batched):
    table = {**TABLE, "matmul": _matmul_stacked}


def batchable(plan: Plan) -> bool:
    """Every op up to the output records a gradient (no detach, no_grad or constant-only node),
    so a batched forward computes every request's own values."""
    return all(isinstance(n, Leaf) or (plan.active[i] and not n.no_grad and n.op != "detach")
               for i, n in enumerate(plan.graph.nodes[: plan.output + 1]))


def per_element(plans: Sequence[Plan], seeds: Sequence[np.ndarray]) -> list[F.FiniteDifferences]:
    """Each request's per-element finite differences (``planned_work`` chose per element)."""
    plan = plans[0]
    leaves = plan.grad_leaves()
    sizes = [int(np.prod(plan.shapes[leaf], dtype=np.int64)) for leaf in leaves]
    count = sum(sizes)
    widest = _Stacked(plan, {}).widest(leaves)
    per_chunk = max(1, COPY_ELEMENTS // max(1, 2 * count * widest))
    out: list[F.FiniteDifferences] = []
    for start in range(0, len(plans), per_chunk):
        out += _chunk(plans[start:start + per_chunk], seeds[start:start + per_chunk], leaves, sizes)
    return out


@np.errstate(all="ignore")
def _chunk(plans: Sequence[Plan], seeds: Sequence[np.ndarray], leaves: list[int],
           sizes: list[int]) -> list[F.FiniteDifferences]:
    plan, count = plans[0], sum(sizes)
    bases = {leaf: np.stack([np.asarray(p.graph.nodes[leaf].value, np.float64).reshape(-1)  # type: ignore[union-attr]
                             for p in plans]) for leaf in leaves}  # [request, element]
    steps = {leaf: F.STEP * np.maximum(1.0, np.abs(b)) for leaf, b in bases.items()}
    stacks = _moved_stacks(plan, bases, steps, leaves, sizes)
    stacks.update(_differing_leaves(plans, 2 * count))
    result = _Stacked(plan, {}).outputs(stacks)
    seed_stack = np.repeat(np.stack([np.asarray(s, np.float64) for s in seeds]), 2 * count, axis=0)
    f = (result * seed_stack).reshape(len(result), -1).sum(axis=1).reshape(len(plans), 2, count)
    slopes = (f[:, 0] - f[:, 1]) / 2
    offsets = np.cumsum([0] + sizes).tolist()
    grads = {leaf: (slopes[:, first:end] / steps[leaf]).reshape((len(plans),) + plan.shapes[leaf])
             for leaf, first, end in zip(leaves, offsets, offsets[1:])}
    return [F.FiniteDifferences("per_element", None, {leaf: g[r] for leaf, g in grads.items()}, {}, {})
            for r in range(len(plans))]


def _moved_stacks(plan: Plan, bases: dict[int, np.ndarray], steps: dict[int, np.ndarray],
                  leaves: list[int], sizes: list[int]) -> dict[int, np.ndarray]:
    """Per request: its 2 x count copies, + then -, perturbation k moving element k of the leaves
    laid end to end (finite_diff._per_element's order: each copy is base + d and base - d, d zero
    but at the moved element, so -0.0 becomes 0.0 in the + copies as it does there)."""
    count = sum(sizes)
    offsets = np.cumsum([0] + sizes).tolist()
    stacks = {}
    for leaf, first, end in zip(leaves, offsets, offsets[1:]):
        base, requests = bases[leaf], len(bases[leaf])
        d = np.zeros((requests, count, end - first))
        rows = np.arange(first, end)
        d[:, rows, rows - first] = steps[leaf]
        stack = np.empty((requests, 2, count, end - first))
        np.add(base[:, None, :], d, out=stack[:, 0])
        np.subtract(base[:, None, :], d, out=stack[:, 1])
        stacks[leaf] = stack.reshape((-1,) + plan.shapes[leaf])
    return stacks


def _differing_leaves(plans: Sequence[Plan], copies: int) -> dict[int, np.ndarray]:
    """Leaves without grad whose values differ between requests, stacked per copy."""
    out = {}
    for i, node in enumerate(plans[0].graph.nodes[: plans[0].output + 1]):
        if not isinstance(node, Leaf) or node.requires_grad:
            continue
        stack = np.stack([np.asarray(p.graph.nodes[i].value) for p in plans])  # type: ignore[union-attr]
        if not (stack == stack[:1]).all():  # as np.array_equal: a nan differs (stacking it changes nothing)
            out[i] = np.repeat(stack, copies, axis=0)
    return out
