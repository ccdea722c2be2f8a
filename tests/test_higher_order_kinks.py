"""Kinks at order 2 (engine/hessian_kinks.py): relu'' and abs'' are 0 almost everywhere and
undefined on the kink, so an element on a kink is a convention difference when the witnesses lie
between the one-sided quotients of the gradient; planted bugs elsewhere are still mismatches."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.graph import validate
from crossgrad.engine.hessian import directions
from crossgrad.engine.hessian_kinks import kink_tests
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.tolerance import Tolerance

W = [0.3, -0.7, 1.1]


def _relu_squared() -> crossgrad.Tensor:
    x = crossgrad.tensor([0.0, 1.5, -2.0], dtype=crossgrad.float64, requires_grad=True)
    return (crossgrad.relu(x) ** 2 * crossgrad.tensor(W, dtype=crossgrad.float64)).sum()


def test_relu_squared_at_its_kink_is_a_convention_with_each_witness_on_its_own_branch() -> None:
    report = crossgrad.check(_relu_squared(), order=2)
    assert report.verdict == "convention", str(report)
    grads = report.leaves[0].grads  # [direction, element]: the full 3 x 3 Hessian
    assert grads["numeric"][0, 0] == 0.0  # PyTorch: relu'(0) = 0, so relu''(0) = 0
    assert grads["symbolic"][0, 0] == pytest.approx(W[0] / 2)  # SymPy: 2 w Heaviside(0)^2 = w / 2
    assert grads["finite_difference"][0, 0] == pytest.approx(W[0], rel=1e-6)  # the central quotient
    for pair in report.leaves[0].pairs:
        assert pair.mismatched == 0 and pair.kinks in (0, 1)
    np.testing.assert_allclose(grads["numeric"][1:, 1:], np.diag([2 * W[1], 0.0]))  # off the kink


@pytest.mark.parametrize("make", [
    lambda x, w: (crossgrad.relu(x) * w).sum(),  # the gradient itself jumps: H v is a delta there
    lambda x, w: (crossgrad.maximum(x, 0.5 * x) ** 2 * w).sum(),
    lambda x, w: (crossgrad.clamp(x, min=0.0) ** 2 * w).sum(),
])
def test_other_second_order_kinks_are_conventions(make) -> None:  # noqa: ANN001
    x = crossgrad.tensor([0.0, 1.5, -2.0], dtype=crossgrad.float64, requires_grad=True)
    report = crossgrad.check(make(x, crossgrad.tensor(W, dtype=crossgrad.float64)), order=2)
    assert report.verdict == "convention", str(report)


def test_a_planted_second_order_bug_is_still_caught_on_a_graph_with_a_kink(monkeypatch) -> None:  # noqa: ANN001
    """pow's VJP with x detached loses relu(x)^2's curvature: wrong at the off-kink element."""
    from crossgrad.engine.numeric.rules import RULES
    from crossgrad.engine.numeric.ruletools import Rule

    good = RULES["pow"]

    def detached(g, saved, node):  # noqa: ANN001, ANN202
        x = saved[0]._data if hasattr(saved[0], "_data") else saved[0]
        return (g * node.attrs["exponent"] * x ** (node.attrs["exponent"] - 1),)

    monkeypatch.setitem(RULES, "pow", Rule(good.forward, detached))
    assert crossgrad.check(_relu_squared()).verdict in ("agree", "convention")  # first order passes
    report = crossgrad.check(_relu_squared(), order=2)
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric"
    numeric_fd = next(p for p in report.leaves[0].pairs if p.witnesses == ("numeric", "finite_difference"))
    assert numeric_fd.worst_index == (1, 1)  # the element at 1.5, off the kink


def test_the_kink_test_accepts_only_values_between_the_one_sided_quotients() -> None:
    graph = to_graph(_relu_squared(), {})[0]
    plan = validate(graph)
    vs, _ = directions(plan, 0)
    make = kink_tests(plan, np.ones(()), vs)
    assert make is not None
    test = make(plan.grad_leaves()[0], Tolerance(1e-7, 0, 0))
    assert test((0, 0), 0.0, 2 * W[0])  # the two branches: left 0, right 2 w
    assert test((0, 0), W[0] / 2, W[0])
    assert not test((0, 0), 0.0, 3 * W[0])  # beyond the right branch
    assert not test((1, 1), 2 * W[1], 0.0)  # an element off the kink: no interval there


def test_no_kink_means_no_kink_test() -> None:
    x = crossgrad.tensor([0.2, 1.5, -2.0], dtype=crossgrad.float64, requires_grad=True)
    loss = (crossgrad.relu(x) ** 2 * crossgrad.tensor(W, dtype=crossgrad.float64)).sum()
    plan = validate(to_graph(loss, {})[0])
    assert kink_tests(plan, np.ones(()), directions(plan, 0)[0]) is None
    assert crossgrad.check(loss, order=2).verdict == "agree"
