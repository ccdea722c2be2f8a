"""What a check will cost, from declared shapes, before anything runs: the server's limits and
the tier choice use it so that no request can buy more work than its size and the limits allow.

Work is counted in element evaluations (one op computing one output element). The numeric side
makes a few passes over every op output per differentiation (forward, backward, and when needed
the floor's sign-scrambled rounds and the kink hulls' passes); finite differences cost what
``finite_diff.planned_work`` says; a program differentiates once per backward step.
"""

from __future__ import annotations

import math
from typing import Any

from . import finite_diff
from .graph import Leaf, Plan

NUMERIC_PASSES = 8  # element evaluations per op output element and differentiation, numeric side
TENSOR_TIER_PASSES = 8  # the same for the tensor tier's compiled derivatives (when it runs)


def backward_runs(program: list[Any] | None) -> int:
    """How many times the witnesses differentiate the graph: once, or once per backward step."""
    if not program:
        return 1
    return max(1, sum(1 for step in program if step.kind == "backward"))


def intermediate_elements(plan: Plan) -> int:
    """Elements of every op output together."""
    return sum(math.prod(shape) for node, shape in zip(plan.graph.nodes, plan.shapes) if not isinstance(node, Leaf))


def element_evaluations(plan: Plan, witnesses: tuple[str, ...], tier: str, program: list[Any] | None,
                        order: int = 1) -> int:
    """The estimated work of a check (the exact tier is budgeted separately, by its own estimate)."""
    if order == 2:
        return _second_order(plan)
    per_run = NUMERIC_PASSES * intermediate_elements(plan)
    if "symbolic" in witnesses and tier == "tensor":
        per_run += TENSOR_TIER_PASSES * intermediate_elements(plan)
    if "finite_difference" in witnesses:
        mode, work = finite_diff.planned_work(plan)
        if mode == "per_element" or not program:  # programs run finite differences per element only
            per_run += work
    return backward_runs(program) * per_run


def _second_order(plan: Plan) -> int:
    """Order 2 (engine/hessian.py): per Hessian-vector product a double backward, two first-order
    gradients for its finite differences and the tensor tier's tangent passes (large graphs),
    about 4x a differentiation's passes."""
    from .hessian import DIRECTIONS, FULL_HESSIAN_MAX

    total = sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves())
    products = total if total <= FULL_HESSIAN_MAX else DIRECTIONS
    return products * 4 * NUMERIC_PASSES * intermediate_elements(plan)
