"""Input values PyTorch refuses at forward time, refused by field before any witness runs.

Validation reads structure only (and integer leaves); a value domain depends on float values,
often of intermediate nodes (a sigmoid's output into binary_cross_entropy), so it is checked on
the forward values of each request, and only when an op with a domain is in the graph. Outside
its domain an op has no gradient to check: the witnesses would disagree on nonsense (PyTorch
raises; the check said `mismatch`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .graph import GraphError, OpNode, Plan, input_indices
from .numeric.run_graph import forward_values

# op -> (input position, PyTorch's message, which values are inside the domain)
DOMAINS: dict[str, tuple[int, str, Callable[[np.ndarray], np.ndarray]]] = {
    "binary_cross_entropy": (0, "all elements of input should be between 0 and 1", lambda v: (v >= 0) & (v <= 1)),
}


def refuse_out_of_domain(plan: Plan) -> None:
    """GraphError at the input of the first op node whose input leaves its domain."""
    nodes = [i for i, n in enumerate(plan.graph.nodes[: plan.output + 1])
             if isinstance(n, OpNode) and n.op in DOMAINS]
    if not nodes:
        return
    with np.errstate(all="ignore"):
        values = forward_values(plan)
    for i in nodes:
        node = plan.graph.nodes[i]
        assert isinstance(node, OpNode)
        pos, message, inside = DOMAINS[node.op]
        src = input_indices(plan, i)[pos]
        if src is None:
            continue
        ok = inside(np.asarray(values[src]))
        if not ok.all():
            where = [int(k) for k in np.argwhere(~ok)[0]] if np.ndim(ok) else []
            value = float(np.asarray(values[src])[tuple(where)])
            raise GraphError(f"graph.nodes[{i}].inputs[{pos}]", f"{node.op}: {message} (PyTorch raises here); "
                                                                 f"{node.inputs[pos]!r} is {value!r} at {where}")
