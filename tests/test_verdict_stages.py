"""``claimed`` adjoints at op nodes (issue 15): a hand-written backprop learns its first wrong stage."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode

RNG = np.random.default_rng(3)
X, W, V = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=(5,))


def _graph():
    return Graph((Leaf("x", X), Leaf("w", W, True), Leaf("v", V), OpNode("z", "matmul", ("x", "w")),
                  OpNode("h", "tanh", ("z",)), OpNode("s", "mul", ("h", "v")), OpNode("out", "sum", ("s",))), "out")


def _student(tanh_bug: bool = False, matmul_bug: bool = False):
    """A hand-written backprop: dL/ds, dL/dh, dL/dz, dL/dw."""
    h = np.tanh(X @ W)
    ds = np.ones((4, 5))
    dh = ds * V
    dz = dh * (1 - h**2) if not tanh_bug else dh * (1 - h)
    dw = X.T @ dz if not matmul_bug else X.T @ dz * 0.5
    return {"s": ds, "h": dh, "z": dz, "w": dw}


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_a_correct_backprop_agrees_at_every_stage(tier):
    report = check(CheckRequest(_graph(), claimed=_student(), tier=tier))
    assert report.verdict == "agree" and report.culprits == [], str(report)


def test_the_first_wrong_stage_is_named():
    report = check(CheckRequest(_graph(), claimed=_student(tanh_bug=True)))
    assert report.verdict == "mismatch"
    first = report.culprits[0]
    assert first.first and first.node == "z" and first.op == "matmul" and first.reference_witness == "symbolic"
    assert first.consumers == ("h (tanh)",)
    line = str(report).splitlines()[2]
    assert line.startswith("  culprit: first wrong stage: claimed adjoint of node z") and "backward of h (tanh)" in line
    assert report.leaf("w").suspect == "claimed"  # inherited below the wrong stage


def test_a_wrong_last_stage_only_is_the_leaf():
    report = check(CheckRequest(_graph(), claimed=_student(matmul_bug=True)))
    assert report.verdict == "mismatch" and not [c for c in report.culprits if hasattr(c, "first")]
    assert report.leaf("w").suspect == "claimed"


def test_a_claimed_stage_of_the_wrong_shape_names_the_node():
    with pytest.raises(GraphError, match="claimed.h"):
        check(CheckRequest(_graph(), claimed={"h": np.zeros(3)}))
