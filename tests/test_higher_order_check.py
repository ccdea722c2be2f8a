"""crossgrad.check(loss, order=2): three witnesses of second derivatives, planted bugs caught."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.errors import FieldError
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

F = crossgrad.nn.functional


def _net(hidden: int = 1, seed: int = 0) -> tuple[crossgrad.Tensor, dict]:
    """softmax(tanh(x w + b)) weighted: 2 + 1 elements (full Hessian, SymPy) when hidden=1."""
    rng = np.random.default_rng(seed)
    w = crossgrad.tensor(rng.standard_normal((2, hidden)), dtype=crossgrad.float64,
                         requires_grad=True)
    b = crossgrad.tensor(rng.standard_normal(hidden), dtype=crossgrad.float64, requires_grad=True)
    x = crossgrad.tensor(rng.standard_normal((3, 2)), dtype=crossgrad.float64)
    c = crossgrad.tensor(rng.standard_normal((3, hidden)), dtype=crossgrad.float64)
    h = (x @ w + b).tanh()
    return (h.softmax(0) * c).sum(), {"w": w, "b": b}


def _detached(v):  # noqa: ANN001, ANN202
    return v._data if hasattr(v, "_data") else v


def _bad_tanh(g, x, out, at):  # noqa: ANN001, ANN202
    """Right to first order; its own derivative misses d(1 - y^2)/dy (y detached)."""
    y = _detached(out)
    return g * (1 - y * y)


def _bad_softmax(g, x, y, at):  # noqa: ANN001, ANN202
    """softmax's VJP with the y of its correction term detached: no second-order term there."""
    yd = _detached(y)
    return y * g - yd * (g * yd).sum(axis=at["dim"], keepdims=True)


def _plant(monkeypatch: pytest.MonkeyPatch, op: str, vjp) -> None:  # noqa: ANN001
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(rule.forward,
                                        lambda g, saved, node: (vjp(g, saved[0], saved[1], node.attrs),)))


def test_order2_agrees_on_a_correct_graph_full_hessian() -> None:
    loss, names = _net()
    report = crossgrad.check(loss, names=names, order=2)
    assert report.verdict == "agree", str(report)
    assert report.order == 2 and report.directions_seed is None
    assert "full Hessian (3 x 3" in str(report)
    w = report.leaf("w")
    assert w.shape == (3, 2, 1) and set(w.grads) == {"numeric", "symbolic", "finite_difference"}
    np.testing.assert_allclose(w.grads["numeric"], w.grads["symbolic"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("op", "vjp"), [("tanh", _bad_tanh), ("softmax", _bad_softmax)])
def test_planted_second_order_bug_caught_while_order1_passes(monkeypatch: pytest.MonkeyPatch,
                                                               op: str, vjp) -> None:  # noqa: ANN001
    _plant(monkeypatch, op, vjp)
    loss, names = _net()
    assert crossgrad.check(loss, names=names).verdict == "agree"
    loss, names = _net()
    report = crossgrad.check(loss, names=names, order=2)
    assert report.verdict == "mismatch"
    assert {leaf.suspect for leaf in report.leaves} == {"numeric"}


def test_large_graph_uses_seeded_directions_and_the_tensor_tier() -> None:
    loss, names = _net(hidden=40)
    report = crossgrad.check(loss, names=names, order=2, fd_seed=5)
    assert report.directions_seed == 5 and report.leaf("w").shape == (3, 2, 40)
    assert report.verdict == "agree", str(report)
    assert report.tier == "tensor" and "120 differentiable elements, over the exact tier's 24" in str(report)


@pytest.mark.parametrize("order", [0, 3, "2", 2.0, True])
def test_bad_order_is_a_field_error(order: object) -> None:
    loss, _ = _net()
    with pytest.raises(FieldError, match="order: must be one of \\[1, 2\\]"):
        crossgrad.check(loss, order=order)
