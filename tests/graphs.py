"""Helpers that build check requests from catalogue cases."""

from __future__ import annotations

import numpy as np
from crossgrad.engine import ops
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.graph import Graph, Leaf, OpNode

from .catalogue_inputs import case_inputs


def case_request(name: str, index: int, dtype: type = np.float64, seed: int = 0, **options) -> CheckRequest:
    """One op applied to drawn inputs; differentiable inputs require grad."""
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    nodes: list = []
    inputs: list = []
    for inp, arr in zip(spec.inputs, case_inputs(spec, case, seed)):
        if arr is None:
            inputs.append(None)
            continue
        value = arr if arr.dtype in (np.int64, np.bool_) else arr.astype(dtype)
        nodes.append(Leaf(inp.name, value, inp.differentiable and name != "detach"))
        inputs.append(inp.name)
    nodes.append(OpNode("out", name, tuple(inputs), dict(case.attrs)))
    out_shape = spec.out_shape(case.shapes, ops.resolve_attrs(spec, case.attrs))
    cot = None
    if int(np.prod(out_shape)) != 1:
        cot = np.random.default_rng(seed + 1).standard_normal(out_shape)
    return CheckRequest(Graph(tuple(nodes), "out"), cot, **options)
