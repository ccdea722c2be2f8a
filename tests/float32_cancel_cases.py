"""Graphs whose float forward cancels large terms (shared by tests/test_forward_rounding.py and
tests/golden/make_golden_float32_cancel.py, which records torch's gradients of them)."""

from __future__ import annotations

from typing import Any

import numpy as np
from crossgrad.engine.graph import Graph, Leaf, OpNode

F32 = np.float32


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def cases() -> dict[str, tuple[list[Any], dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """name -> (op nodes, leaves requiring grad, constants)."""
    x = _rng(0).standard_normal((4, 6)).astype(F32)
    w = _rng(1).standard_normal((4, 6)).astype(F32)
    rows = np.array([[2.0, 2.0, 2.0, 2.0], [1.0, -1.0, 0.5, 3.0]])
    return {
        "offset 1e4 square": ([OpNode("a", "add", ("x", "c")), OpNode("b", "sub", ("a", "c")),
                               OpNode("q", "square", ("b",)), OpNode("l", "sum", ("q",))],
                              {"x": x}, {"c": np.full((4, 6), 1e4, F32)}),
        "layer_norm 1e6 offset": ([OpNode("n", "layer_norm", ("x",), {"normalized_shape": (4,)}),
                                   OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
                                  {"x": (rows + 1e6).astype(F32)}, {"w": _rng(9).standard_normal((2, 4)).astype(F32)}),
        "softmax saturated": ([OpNode("a", "mul", ("x", "k")), OpNode("s", "softmax", ("a",), {"dim": 1}),
                               OpNode("q", "mul", ("s", "w")), OpNode("l", "sum", ("q",))],
                              {"x": x}, {"k": np.array(100.0, F32), "w": w}),
        "batch_norm 1e6 offset": ([OpNode("n", "batch_norm", ("x",), {"training": True}),
                                   OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
                                  {"x": (x[:3, :5] + 1e6).astype(F32)}, {"w": w[:3, :5].copy()}),
        "var 1e4 mean": ([OpNode("v", "var", ("x",), {"dim": (1,)}), OpNode("q", "mul", ("v", "u")),
                          OpNode("l", "sum", ("q",))],
                         {"x": (x + 1e4).astype(F32)}, {"u": w[:, 0].copy()}),
    }


def graph(name: str, leaves: dict[str, np.ndarray] | None = None) -> Graph:
    """The case's graph (its leaves' values replaced by ``leaves`` where given)."""
    ops, grads, consts = cases()[name]
    values = {**grads, **(leaves or {})}
    nodes = [Leaf(k, values[k], True) for k in grads] + [Leaf(k, v, False) for k, v in consts.items()]
    return Graph(tuple(nodes + ops), ops[-1].name)
