"""The pointwise losses of issue 11 part B: hand values, target-side planted bugs, bad input."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import ShapeError
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.rules_losses import LOSS_RULES
from crossgrad.engine.numeric.ruletools import Rule

from .test_check_catalogue import _assert_caught


def _t(values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def test_hand_values():
    x, y = _t([0.0, 2.0, -3.0]), _t([0.5, 0.0, 0.0])
    assert F.l1_loss(x, y, reduction="sum").item() == 5.5
    assert F.smooth_l1_loss(x, y, reduction="none").tolist() == [0.125, 1.5, 2.5]
    assert F.huber_loss(x, y, reduction="none", delta=2.0).tolist() == [0.125, 2.0, 4.0]
    F.huber_loss(x, y, reduction="sum", delta=2.0).backward()
    assert x.grad.tolist() == [-0.5, 2.0, -2.0] and y.grad.tolist() == [0.5, -2.0, 2.0]
    p, q = _t([np.log(0.5), np.log(0.5)]), _t([0.25, 0.75])
    want = 0.25 * np.log(0.5) + 0.75 * np.log(1.5)
    np.testing.assert_allclose(F.kl_div(p, q, reduction="batchmean").item(), want / 2, rtol=1e-14)
    b = F.binary_cross_entropy(_t([0.5, 0.0]), _t([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(b.detach().numpy(), [np.log(2), 100.0])  # log clamped at -100, as torch


@pytest.mark.parametrize(("call", "error", "text"), [
    (lambda: F.l1_loss(_t([1.0, 2.0]), _t([1.0, 2.0, 3.0])), ShapeError,  # a target of size 1 broadcasts, as torch
     r"The size of tensor a \(2\) must match the size of tensor b \(3\)"),
    (lambda: F.smooth_l1_loss(_t([1.0]), _t([1.0]), beta=-1.0), ShapeError, "negative values for beta"),
    (lambda: F.huber_loss(_t([1.0]), _t([1.0]), reduction="avg"), ShapeError, "not a valid value for reduction"),
])
def test_bad_input_is_typed(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_an_integer_where_a_float_is_needed_names_the_field():
    nodes = (Leaf("x", np.ones(3), True), Leaf("y", np.array([1, 0, 1]), False), OpNode("out", "l1_loss", ("x", "y")))
    with pytest.raises(GraphError) as err:
        validate(Graph(nodes, "out"))
    assert err.value.path == "graph.nodes[2].inputs[1]" and "target of l1_loss must be a float tensor" in str(err.value)


@pytest.mark.parametrize("op", sorted(set(LOSS_RULES) - {"nll_loss"}))  # nll: targets are classes
def test_wrong_sign_on_the_target_gradient_is_caught_at_the_target(monkeypatch, op):
    rng = np.random.default_rng(4)
    x = rng.uniform(0.2, 0.8, (3, 2))
    y = rng.uniform(0.2, 0.8, (3, 2))
    request = CheckRequest(Graph((Leaf("x", x, False), Leaf("y", y, True), OpNode("out", op, ("x", "y"))), "out"),
                           tier="tensor")
    assert check(request).verdict == "agree"
    rule = LOSS_RULES[op]

    def wrong(g, saved, node):
        gx, gy, *rest = rule.vjp(g, saved, node)
        return (gx, -gy, *rest)

    monkeypatch.setitem(RULES, op, Rule(rule.forward, wrong))
    _assert_caught(check(request), "y")


def test_nll_loss_weighted_mean_and_ignore_index_by_hand():
    logp = _t([[-1.0, -2.0, -3.0], [-0.5, -1.5, -2.5], [-0.1, -0.2, -0.3]])
    w = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    loss = F.nll_loss(logp, torch.tensor([2, 1, 0]), weight=w, ignore_index=0)
    assert loss.item() == (4 * 3.0 + 2 * 1.5) / 6  # the sample with target 0 is ignored
    loss.backward()
    np.testing.assert_array_equal(logp.grad.numpy(), [[0, 0, -4 / 6], [0, -2 / 6, 0], [0, 0, 0]])
