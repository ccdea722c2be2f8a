"""The precision a leaf's gradient is computed in: its own dtype, or float32 when a float32 op node
lies on its way to the output (a float64 input cast with ``x.float()``) or computes a value that
a VJP on that way reads (a float32 branch multiplying the leaf's float64 one): torch's gradient,
and crossgrad's numeric one, then carry float32 rounding. Tolerances are chosen by this dtype, so
mixed precision is judged at the precision it has — per leaf: a float64 leaf whose gradient never
meets a float32 value keeps float64 tolerances."""

from __future__ import annotations

from .graph import Leaf, Plan, input_indices

# ops whose VJP reads no input value: the other operands of an add do not enter the leaf's gradient
VALUE_FREE_VJPS = frozenset({"add", "sub", "neg", "sum", "mean", "reshape", "flatten", "transpose",
                             "permute", "to_dtype"})


def gradient_dtypes(plan: Plan) -> dict[int, str]:
    """Per differentiable leaf: 'float32' if it is float32 or a float32 op node is on its way to
    the output or feeds a VJP on that way."""
    leaves = plan.grad_leaves()
    if all(plan.dtypes[i] == "float32" for i in leaves) or "float32" not in plan.dtypes:
        return {i: plan.dtypes[i] for i in leaves}
    to_output = _ancestors(plan, [plan.output])
    return {i: "float32" if plan.dtypes[i] == "float32" or _meets_float32(plan, i, to_output)
            else plan.dtypes[i] for i in leaves}


def _inputs(plan: Plan, i: int) -> list[int]:
    if isinstance(plan.graph.nodes[i], Leaf):
        return []
    return [s for s in input_indices(plan, i) if s is not None]


def _ancestors(plan: Plan, starts: list[int]) -> list[bool]:
    """Marks the nodes ``starts`` depend on (themselves included); inputs come before consumers."""
    marked = [False] * len(plan.dtypes)
    for s in starts:
        marked[s] = True
    for i in range(max(starts, default=-1), -1, -1):
        if marked[i]:
            for s in _inputs(plan, i):
                marked[s] = True
    return marked


def _meets_float32(plan: Plan, leaf: int, to_output: list[bool]) -> bool:
    way = [False] * len(plan.dtypes)  # nodes on the leaf's way to the output
    way[leaf] = True
    for i in range(leaf + 1, plan.output + 1):
        way[i] = to_output[i] and any(way[s] for s in _inputs(plan, i))
    read = [s for i in range(leaf + 1, plan.output + 1) if way[i]
            and plan.graph.nodes[i].op not in VALUE_FREE_VJPS for s in _inputs(plan, i)]  # type: ignore[union-attr]
    feeding = _ancestors(plan, read)
    return any(plan.dtypes[i] == "float32" and not isinstance(plan.graph.nodes[i], Leaf)
               and (way[i] or feeding[i]) for i in range(len(plan.dtypes)))
