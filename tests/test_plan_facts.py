"""Structure facts are remembered per structure, and per node names where they name nodes."""

from __future__ import annotations

import numpy as np
from crossgrad.engine.check import grad_fn_names, kinks_present
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate


def _graph(x: list[float], names: tuple[str, str]) -> Graph:
    return Graph((Leaf("x", np.array(x), True), OpNode(names[0], "relu", ("x",)),
                  OpNode(names[1], "sum", (names[0],), {"dim": None, "keepdim": False})), names[1])


def test_grad_fn_names_follow_each_plan_s_own_node_names():
    first, renamed = validate(_graph([1.0, 2.0], ("r", "s"))), validate(_graph([1.0, 2.0], ("a", "b")))
    assert first.structure_hash == renamed.structure_hash
    assert grad_fn_names(first) == {"r": "ReluBackward0", "s": "SumBackward0"}
    assert grad_fn_names(renamed) == {"a": "ReluBackward0", "b": "SumBackward0"}
    grad_fn_names(first)["r"] = "changed"  # a caller's copy: the remembered names stay
    assert grad_fn_names(first)["r"] == "ReluBackward0"


def test_kinks_are_still_looked_for_in_each_plan_s_values():
    assert kinks_present(validate(_graph([1.0, 2.0], ("r", "s")))) is None
    found = kinks_present(validate(_graph([0.0, 2.0], ("r", "s"))))
    assert found is not None and found[1].tolist() == [0.0, 2.0]
