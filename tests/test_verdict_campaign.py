"""Findings of the session-6 verdict campaign (bench/verdict_campaign.py, bench/verdict_kinks_cnn.py),
each pinned: false alarms on correct graphs (masked -1e9 rows, large logsumexp, kinks under a NaN
loss, pow at a zero base, binary_cross_entropy out of its domain) and planted bugs still caught."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
ROWS = np.zeros((3, 4), bool)
ROWS[0] = True  # a fully masked row
ROWS[1, :2] = True


def _masked(op: str, fill: float, weights: np.ndarray) -> Graph:
    at = {"dim": (1,)} if op == "logsumexp" else {"dim": 1}
    return Graph((Leaf("x", X, True), Leaf("m", ROWS, False), Leaf("w", weights, False),
                  OpNode("f", "masked_fill", ("x", "m"), {"value": fill}), OpNode("s", op, ("f",), at),
                  OpNode("q", "mul", ("s", "w")), OpNode("l", "sum", ("q",))), "l")


@pytest.mark.parametrize("op", ["log_softmax", "softmax", "logsumexp"])
def test_rows_masked_with_minus_1e9_agree_on_the_exact_tier(op):
    """exp(-1e9) was taken as 0 (|x| >= 2^14): a fully masked row's log(sum) was log(0), the symbolic
    forward inf, and the numeric forward rule (torch's, which subtracts the row max) was blamed."""
    w = RNG.standard_normal((3,) if op == "logsumexp" else (3, 4))
    report = check(CheckRequest(_masked(op, -1e9, w), tier="exact"))
    assert report.verdict == "agree", str(report)
    assert not report.culprits


def test_logsumexp_of_large_values_agrees_on_the_exact_tier():
    graph = Graph((Leaf("x", X * 1e4 + 2e4, True), OpNode("s", "logsumexp", ("x",), {"dim": (1,)}),
                   OpNode("l", "sum", ("s",))), "l")
    assert check(CheckRequest(graph, tier="exact")).verdict == "agree"


def test_a_wrong_log_softmax_rule_on_a_masked_row_is_still_caught(monkeypatch):
    rule = RULES["log_softmax"]
    monkeypatch.setitem(RULES, "log_softmax", Rule(rule.forward, lambda g, s, n: (rule.vjp(g, s, n)[0] * 1.01,)))
    w = np.where(ROWS, 0.0, RNG.standard_normal((3, 4)))  # masked outputs ignored: f has no -1e9 terms
    report = check(CheckRequest(_masked("log_softmax", -1e9, w), tier="exact"))
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric", str(report)


def _nan_loss_with_kinks():
    import crossgrad as torch
    import crossgrad.nn.functional as F  # noqa: N812

    r = np.random.default_rng(0)
    x = torch.tensor(r.integers(-2, 3, (2, 2, 4, 4)).astype(float), dtype=torch.float64, requires_grad=True)
    mask = np.zeros((2, 2, 4, 4), bool)
    mask[0, 0, 1] = True  # one fully masked row: softmax NaN there, so the loss is NaN
    t = F.leaky_relu(torch.softmax(F.hardtanh(x).masked_fill(torch.tensor(mask), float("-inf")), -1), 0.1)
    return (t * torch.tensor(r.integers(1, 4, (2, 2, 4, 4)) * 0.5)).sum()


def test_kinks_under_a_nan_loss_are_judged_by_the_branch_hull():
    """leaky_relu at 0 (masked softmax outputs) with a NaN loss: the one-sided quotients are NaN, so
    every kink element was a mismatch (numeric -0.0 vs symbolic -0.12); the hull decides them."""
    import crossgrad as torch

    with np.errstate(all="ignore"):
        report = torch.check(_nan_loss_with_kinks())
    assert report.verdict == "non_finite", str(report)
    pair = report.leaves[0].pairs[0]
    assert pair.witnesses == ("numeric", "symbolic") and pair.mismatched == 0 and pair.kinks > 0


def test_a_wrong_leaky_relu_rule_under_a_nan_loss_is_still_a_mismatch(monkeypatch):
    import crossgrad as torch

    rule = RULES["leaky_relu"]
    monkeypatch.setitem(RULES, "leaky_relu", Rule(rule.forward, lambda g, s, n: (rule.vjp(g, s, n)[0] * 1.5,)))
    with np.errstate(all="ignore"):
        report = torch.check(_nan_loss_with_kinks())
    assert report.verdict == "mismatch", str(report)


@pytest.mark.parametrize("order", [1, 2])
def test_binary_cross_entropy_outside_its_domain_is_refused_by_field_as_torch_refuses(order):
    """An input of 2.0 (or -1, or NaN) made the witnesses disagree on nonsense: `mismatch`."""
    from crossgrad.engine.graph import GraphError

    for bad in (2.0, -1.0, float("nan")):
        graph = Graph((Leaf("x", np.array([bad, 0.5]), True), Leaf("y", np.array([0.5, 1.0]), False),
                       OpNode("p", "add", ("x", "x")), OpNode("l", "binary_cross_entropy", ("p", "y"))), "l")
        with pytest.raises(GraphError, match="all elements of input should be between 0 and 1") as err:
            check(CheckRequest(graph, order=order))
        assert err.value.path == "graph.nodes[3].inputs[0]" and "'p'" in str(err.value)
    inside = Graph((Leaf("x", np.array([0.3, 0.5]), True), Leaf("y", np.array([0.5, 1.0]), False),
                    OpNode("l", "binary_cross_entropy", ("x", "y"))), "l")
    assert check(CheckRequest(inside, order=order)).verdict in ("agree", "convention")


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_pow_at_a_zero_base_agrees(tier):
    """SymPy writes d a^b / da as a^b b / a: 0/0 at a = 0 made the symbolic witness NaN alone there
    (the exact tier's whole element), a mismatch blaming it; b a^(b-1) is PyTorch's rule."""
    graph = Graph((Leaf("a", np.array([0.0, 2.0, -1.5, 0.0]), True), Leaf("b", np.array([1.0, 2.0, 3.0, 2.0]), False),
                   OpNode("p", "pow_tensor", ("a", "b")), OpNode("l", "sum", ("p",))), "l")
    report = check(CheckRequest(graph, tier=tier))
    assert report.verdict == "agree", str(report)
    np.testing.assert_allclose(report.leaves[0].grads["symbolic"], [1.0, 4.0, 3 * 2.25, 0.0])
