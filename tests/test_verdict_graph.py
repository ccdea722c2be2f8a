"""Localization inside a 28-node graph (issue 15): a wrong VJP planted in any one of its ops is
named at that op's node and nowhere else, on every tier and by finite differences alone."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.export import to_graph

from .test_check_catalogue import GENERIC_BUGS, _plant

ONCE = ["tanh", "sigmoid", "abs", "neg", "exp", "sub", "div", "softplus", "log_softmax", "mean", "sum"]


@pytest.fixture(scope="module")
def graph():
    torch.manual_seed(3)
    x = torch.randn(4, 3, dtype=torch.float64)
    w1 = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    b1 = torch.randn(5, dtype=torch.float64, requires_grad=True)
    w2 = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    h = torch.tanh(x @ w1 + b1)
    g = torch.sigmoid(h * b1) - torch.exp(-h.abs() * 0.5)
    y = F.softplus(g / (1.0 + h * h)) @ w2
    loss = F.log_softmax(y, dim=1).mean() + (y * y).sum() * 0.1
    built, _ = to_graph(loss, {id(w1): "w1", id(b1): "b1", id(w2): "w2"})
    assert len(built.nodes) == 28 and all(sum(getattr(n, "op", "") == op for n in built.nodes) == 1 for op in ONCE)
    return built


@pytest.mark.parametrize("bug", sorted(GENERIC_BUGS))
@pytest.mark.parametrize("tier", ["exact", "tensor", "off"])
@pytest.mark.parametrize("op", ONCE)
def test_the_planted_node_and_only_it_is_named(monkeypatch, graph, op, tier, bug):
    planted = next(n.name for n in graph.nodes if isinstance(n, OpNode) and n.op == op)
    _plant(monkeypatch, op, GENERIC_BUGS[bug])
    report = check(CheckRequest(graph, tier=tier))
    assert report.verdict == "mismatch", str(report)
    assert report.culprits and {c.node for c in report.culprits} == {planted}, str(report)
    assert all(c.suspect == "numeric" and c.input == 0 for c in report.culprits)


@pytest.mark.parametrize("tier", ["exact", "tensor", "off"])
def test_a_kink_elsewhere_neither_hides_the_bug_nor_is_blamed(monkeypatch, tier):
    """relu sits on 0 at two elements (a convention, not a bug); tanh's VJP is planted wrong. The
    elements the kink cannot move are a mismatch (not excused as convention: the numeric engine's
    own branch hull, unioned with the quotients, used to cover its own wrong value), and the relu
    node is not named."""
    x = np.array([[1.0, 0.0, -2.0], [0.5, 0.0, 1.5]])
    w = np.array([[0.3, -0.2], [0.7, 0.1], [-0.4, 0.9]])
    graph = Graph((Leaf("x", x, True), Leaf("w", w, True), OpNode("r", "relu", ("x",)),
                   OpNode("z", "matmul", ("r", "w")), OpNode("h", "tanh", ("z",)), OpNode("out", "sum", ("h",))), "out")
    assert check(CheckRequest(graph, tier=tier)).verdict == "convention"
    _plant(monkeypatch, "tanh", GENERIC_BUGS["dropped factor"])
    report = check(CheckRequest(graph, tier=tier))
    assert report.verdict == "mismatch" and report.leaf("w").verdict == "mismatch", str(report)
    assert [c.node for c in report.culprits] == ["h"], str(report)
