"""The tensor tier's adjoints at every op node (issue 15): its compiled, SymPy-derived VJPs run
through the graph once more, recording d loss / d node output and what each node sends to each
input, for localizing a wrong backward rule on graphs too large for the exact tier."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..allocator import keep_freed_memory
from ..graph import Leaf, OpNode, Plan, input_indices
from .tensor import _backward as step_backward
from .tensor import _forward as step_forward
from .tensor import compile_plan

Adjoints = dict[int, tuple[np.ndarray, list[np.ndarray | None]]]


def _forward(plan: Plan, steps: list[Any]) -> list[Any]:
    """Every node's tape (None for leaves), float64."""
    values: list[Any] = []
    tapes: list[Any] = []
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if isinstance(node, Leaf):
            v = np.asarray(node.value)
            values.append(v if v.dtype == np.int64 else v.astype(np.float64))
            tapes.append(None)
            continue
        inputs = [None if s is None else values[s] for s in input_indices(plan, i)]
        forward = step_forward  # templates, contractions and the strided conv alike
        out, tape = forward(steps[i], inputs)
        values.append(out.reshape(plan.shapes[i]))
        tapes.append(tape)
    return tapes


def node_adjoints(plan: Plan, seed: np.ndarray) -> Adjoints:
    """Per active op node the seed reaches: (its output's adjoint, per input position the adjoint
    that node alone sends there, None where nothing is sent), float64."""
    keep_freed_memory()
    steps = compile_plan(plan)
    found: Adjoints = {}
    with np.errstate(all="ignore"):
        tapes = _forward(plan, steps)
        adjoints: list[Any] = [None] * (plan.output + 1)
        adjoints[plan.output] = np.asarray(seed, np.float64).reshape(plan.shapes[plan.output])
        for i in range(plan.output, -1, -1):
            node, adjoint = plan.graph.nodes[i], adjoints[i]
            if not isinstance(node, OpNode) or adjoint is None or not plan.active[i]:
                continue
            srcs = input_indices(plan, i)
            specs = ops.CATALOGUE[node.op].input_specs(len(srcs))
            wants = [s is not None and plan.active[s] and specs[p].differentiable for p, s in enumerate(srcs)]
            backward = step_backward
            sent: list[np.ndarray | None] = []
            for src, adj in zip(srcs, backward(steps[i], tapes[i], adjoint, wants)):
                adj = None if adj is None or src is None else np.asarray(adj).reshape(plan.shapes[src])
                sent.append(adj)
                if adj is not None and src is not None:
                    adjoints[src] = adj if adjoints[src] is None else adjoints[src] + adj
            sent += [None] * (len(srcs) - len(sent))
            found[i] = (adjoint, sent)
            tapes[i] = None  # free the node's saved values once used
    return found


def node_values(plan: Plan, inputs: list[Any]) -> dict[int, np.ndarray]:
    """Per active op node up to the output: its tensor-tier forward value (float64) computed from
    ``inputs[src]``, the numeric engine's value of each of its sources (a wrong forward rule is
    then that node's own, not inherited from upstream)."""
    steps = compile_plan(plan)
    out: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
            if not isinstance(node, OpNode) or not plan.active[i]:
                continue
            srcs = [None if s is None else np.asarray(inputs[s]) for s in input_indices(plan, i)]
            srcs = [x if x is None or x.dtype == np.int64 else x.astype(np.float64) for x in srcs]
            forward = step_forward  # templates, contractions and the strided conv alike
            out[i] = np.asarray(forward(steps[i], srcs)[0]).reshape(plan.shapes[i])
    return out
