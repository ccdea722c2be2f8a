"""Forward values have witnesses too (issue 20, item 8): a wrong numeric forward rule is named at
its node, and the symbolic witness is not blamed for it."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.forward_check import ForwardMismatch, forward_mismatches
from crossgrad.engine.graph import validate
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule


def _forward_planted(monkeypatch, op, change):
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(lambda xs, attrs: (change(rule.forward(xs, attrs)[0]),
                                                           rule.forward(xs, attrs)[1]), rule.vjp))


def _graph(x, w):
    h = torch.tanh(x @ w)
    return (torch.exp(h) * 0.5).sum()


def test_a_wrong_tanh_forward_is_named_at_its_node_not_blamed_on_symbolic(monkeypatch):
    x, w = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    _forward_planted(monkeypatch, "tanh", lambda out: out * 1.05)
    report = torch.check(_graph(x, w), names={"w": w})
    assert report.verdict == "mismatch" and report.leaf("w").suspect == "numeric"
    assert [c.op for c in report.culprits] == ["tanh"]
    culprit = report.culprits[0]
    assert isinstance(culprit, ForwardMismatch) and culprit.mismatched == culprit.total == 6
    assert np.isclose(culprit.numeric, 1.05 * culprit.symbolic)
    text = str(report)
    assert text.index("culprit: forward of node") < text.index("w [4, 2]")
    assert "suspect: numeric's forward rule for tanh" in text


def test_a_wrong_branch_of_an_exp_forward_is_located(monkeypatch):
    """Wrong only where exp > 1: numeric's backward reads its own saved output and agrees with
    symbolic; finite differences see the wrong forward — still numeric's forward is named."""
    x, w = torch.randn(3, 4), torch.randn(4, 2, requires_grad=True)  # float32
    positive = int((torch.tanh(x @ w).detach().numpy() > 0).sum())
    assert 0 < positive < 6
    _forward_planted(monkeypatch, "exp", lambda out: np.where(out > 1, out * 1.5, out))
    report = torch.check(_graph(x, w), names={"w": w})
    assert report.verdict == "mismatch" and report.leaf("w").suspect == "numeric"
    (culprit,) = report.culprits
    assert culprit.op == "exp" and culprit.mismatched == positive
    assert np.isclose(culprit.numeric, 1.5 * culprit.symbolic, rtol=1e-6)


def test_a_backward_bug_has_no_forward_culprit(monkeypatch):
    tanh = RULES["tanh"]
    monkeypatch.setitem(RULES, "tanh", Rule(tanh.forward, lambda g, s, n: tuple(-v for v in tanh.vjp(g, s, n))))
    x, w = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    report = torch.check(_graph(x, w), names={"w": w})
    assert report.verdict == "mismatch" and report.leaf("w").suspect == "numeric"
    assert not any(isinstance(c, ForwardMismatch) for c in report.culprits)


def test_ill_conditioned_but_correct_forwards_are_no_culprits():
    """(x + 1e8) - 1e8, then amplified and logged: each node is judged from its own numeric
    inputs, so the cancellation upstream is no forward mismatch downstream."""
    x = torch.tensor([0.3, 1.7, 2.5], dtype=torch.float64, requires_grad=True)
    y = torch.log(((x + 1e8) - 1e8) * 1e12).sum()
    graph, _ = to_graph(y, {})
    assert forward_mismatches(validate(graph)) == []


def test_the_forward_check_catches_a_relative_error_of_1e_7(monkeypatch):
    x = torch.tensor([0.3, 1.7, 2.5], dtype=torch.float64, requires_grad=True)
    _forward_planted(monkeypatch, "exp", lambda out: out * (1 + 1e-7))
    graph, _ = to_graph(torch.exp(x).sum(), {})
    assert [m.op for m in forward_mismatches(validate(graph))] == ["exp"]


def _vjp_planted(monkeypatch, op, change):
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(rule.forward, lambda g, s, n: change(rule.vjp(g, s, n))))


def test_a_wrong_backward_is_named_at_its_op_node(monkeypatch):
    _vjp_planted(monkeypatch, "tanh", lambda grads: tuple(-v for v in grads))
    x, w = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    loss = _graph(x, w)
    report = torch.check(loss, names={"w": w})
    (culprit,) = report.culprits
    assert culprit.op == "tanh" and culprit.grad_fn == "TanhBackward0" and culprit.input == 0
    assert culprit.suspect == "numeric" and culprit.mismatched == culprit.total == 6
    assert np.isclose(culprit.values["numeric"], -culprit.values["symbolic"])
    assert str(report).splitlines()[2].startswith("  culprit: node ")


@pytest.mark.parametrize("tier", ["auto", "tensor", "off"])  # off: finite differences localize
def test_two_wrong_rules_in_different_branches_are_both_named(monkeypatch, tier):
    _vjp_planted(monkeypatch, "exp", lambda grads: tuple(1.5 * v for v in grads))
    _vjp_planted(monkeypatch, "sigmoid", lambda grads: tuple(v + 0.1 for v in grads))
    a = torch.randn(5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True)
    loss = (torch.exp(a * 0.5) * torch.tanh(b)).sum() + (torch.sigmoid(b * a)).sum()
    report = torch.check(loss, names={"a": a, "b": b}, tier=tier)
    assert sorted(c.op for c in report.culprits) == ["exp", "sigmoid"], str(report)


def test_a_culprit_is_drawn_in_the_html_report(monkeypatch):
    _vjp_planted(monkeypatch, "tanh", lambda grads: tuple(2 * v for v in grads))
    x, w = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    report = torch.check(_graph(x, w), names={"w": w})
    (culprit,) = report.culprits
    assert f'class="node culprit-node" data-node="{culprit.node}"' in report.to_html()


def test_closed_forms_come_as_mathml_too():
    b = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    report = torch.check(torch.tanh(b * 3.0).sum(), names={"b": b}, formulas=True)
    leaf = report.leaf("b")
    assert len(leaf.closed_form_mathml) == 2 and leaf.closed_form_mathml[0].startswith("<math xmlns=")
    assert "<mi>tanh</mi>" in leaf.closed_form_mathml[0] and "b[0]" in leaf.closed_form_mathml[0]
    assert leaf.closed_form_mathml[0] in report.to_html()
