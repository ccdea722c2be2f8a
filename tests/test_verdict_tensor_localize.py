"""Localization on the tensor tier (issue 15): the seed MLP (Flatten-Linear(784,512)-ReLU-
Linear(512,512)-ReLU-Linear(512,10), cross entropy) is too large for the exact tier, and a bug
planted in one layer's rule is still named at that layer's node."""

from __future__ import annotations

import sys
from pathlib import Path

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
from seed_autograd import NeuralNetwork  # noqa: E402


@pytest.fixture(scope="module")
def mlp() -> Graph:
    torch.manual_seed(0)
    model = NeuralNetwork()
    x = torch.rand(4, 28, 28)
    y = torch.tensor(np.random.default_rng(0).integers(0, 10, 4))
    return to_graph(F.cross_entropy(model(x), y), {id(p): n for n, p in model.named_parameters()})[0]


def _layer(graph: Graph, weight: str) -> str:
    return next(n.name for n in graph.nodes if isinstance(n, OpNode) and n.op == "linear" and weight in n.inputs)


def _plant_linear(monkeypatch, shape, transform):
    """Only the linear layer whose weight has ``shape`` gets the wrong input gradient."""
    rule = RULES["linear"]

    def wrong(g, saved, node):
        gx, gw, gb = rule.vjp(g, saved, node)
        return (transform(g, saved[1]) if saved[1].shape == shape and gx is not None else gx), gw, gb
    monkeypatch.setitem(RULES, "linear", Rule(rule.forward, wrong))


def test_the_clean_mlp_agrees_without_culprits_or_localization_time(mlp):
    report = check(CheckRequest(mlp))
    assert report.tier == "tensor" and report.verdict == "agree" and report.culprits == []
    assert "localize" not in report.timings and "forward_check" not in report.timings


def test_a_transposed_weight_in_the_middle_layer_is_named_there(monkeypatch, mlp):
    _plant_linear(monkeypatch, (512, 512), lambda g, w: g @ w.T)  # the classic bug, square W hides it
    report = check(CheckRequest(mlp))
    assert report.tier == "tensor" and report.verdict == "mismatch"
    [culprit] = report.culprits
    assert (culprit.node, culprit.op, culprit.grad_fn, culprit.input, culprit.suspect) == \
        (_layer(mlp, "linear_relu_stack.2.weight"), "linear", "AddmmBackward0", 0, "numeric")
    assert report.leaf("linear_relu_stack.0.weight").verdict == "mismatch"  # the leaf that shows it is upstream
    assert str(report).splitlines()[2].startswith(f"  culprit: node {culprit.node} (linear, AddmmBackward0)")


def test_a_dropped_factor_in_the_last_layer_is_named_there(monkeypatch, mlp):
    _plant_linear(monkeypatch, (10, 512), lambda g, w: 0.5 * (g @ w))
    report = check(CheckRequest(mlp))
    [culprit] = report.culprits
    assert (culprit.node, culprit.input) == (_layer(mlp, "linear_relu_stack.4.weight"), 0)
    assert culprit.values["numeric"] == pytest.approx(0.5 * culprit.values["symbolic"], rel=1e-6)


def test_a_wrong_relu_forward_is_named_at_both_relu_nodes(monkeypatch, mlp):
    """Finite differences run the same wrong forward, so they side with numeric; the tensor tier's
    forward from the same inputs names the nodes, and the suspect becomes numeric."""
    rule = RULES["relu"]
    monkeypatch.setitem(RULES, "relu", Rule(lambda xs, at: (np.where(xs[0] > 0, xs[0], 0.1 * xs[0]), None),
                                            rule.vjp))
    report = check(CheckRequest(mlp))
    relus = {n.name for n in mlp.nodes if isinstance(n, OpNode) and n.op == "relu"}
    assert report.verdict == "mismatch" and {c.node for c in report.culprits} == relus
    assert all(str(c).startswith("forward of node") for c in report.culprits)


def test_claimed_stages_on_the_tensor_tier_use_the_symbolic_reference():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    graph = Graph((Leaf("x", x), Leaf("w", w, True), OpNode("z", "matmul", ("x", "w")),
                   OpNode("h", "sigmoid", ("z",)), OpNode("out", "sum", ("h",))), "out")
    h = 1 / (1 + np.exp(-(x @ w)))
    report = check(CheckRequest(graph, tier="tensor", claimed={"h": np.ones((3, 2)), "z": h}))  # forgot (1 - h)
    [stage] = report.culprits
    assert (stage.node, stage.first, stage.reference_witness) == ("z", True, "symbolic")
    assert stage.reference == pytest.approx((h * (1 - h))[stage.index])
