"""The precision a leaf's gradient is computed in: its own dtype, or float32 when the computation
holds a float32 op node (a float64 input cast with ``x.float()``, a float32 branch multiplying a
float64 one): torch's gradient, and crossgrad's numeric one, then carry float32 rounding, of the
values on the way back or of the values they multiply by. Tolerances are chosen by this dtype,
so mixed precision is judged at the precision it has."""

from __future__ import annotations

from .graph import Leaf, Plan, input_indices


def gradient_dtypes(plan: Plan) -> dict[int, str]:
    """Per differentiable leaf: 'float32' if it is float32 or an op node the output depends on is."""
    leaves = plan.grad_leaves()
    if all(plan.dtypes[i] == "float32" for i in leaves) or "float32" not in plan.dtypes:
        return {i: plan.dtypes[i] for i in leaves}
    reach = [False] * len(plan.dtypes)
    reach[plan.output] = True
    for i in range(plan.output, -1, -1):  # consumers come after their inputs
        if not reach[i] or isinstance(plan.graph.nodes[i], Leaf):
            continue
        if plan.dtypes[i] == "float32":
            return {i: "float32" for i in leaves}
        for s in input_indices(plan, i):
            if s is not None:
                reach[s] = True
    return {i: plan.dtypes[i] for i in leaves}
