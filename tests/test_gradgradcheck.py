"""crossgrad.gradgradcheck / crossgrad.autograd.gradgradcheck: torch.autograd.gradgradcheck's call
shape on crossgrad tensors, judged by check(order=2) over (inputs, grad_outputs)."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule


def _x() -> crossgrad.Tensor:
    return crossgrad.tensor([0.3, -1.2, 2.0], dtype=crossgrad.float64, requires_grad=True)


def f(a: crossgrad.Tensor) -> crossgrad.Tensor:
    return a.tanh() * a.exp()


def _detached_tanh(monkeypatch: pytest.MonkeyPatch) -> None:
    """tanh's VJP computing 1 - y*y from a detached y: right to first order only."""
    rule = RULES["tanh"]
    monkeypatch.setitem(RULES, "tanh", Rule(rule.forward, lambda g, saved, node: (
        g * (1 - getattr(saved[1], "_data", saved[1]) ** 2),)))


def test_agrees_on_correct_functions_and_is_torchs_name() -> None:
    assert crossgrad.autograd.gradgradcheck is crossgrad.gradgradcheck
    assert crossgrad.autograd.gradcheck is crossgrad.gradcheck
    w = crossgrad.tensor([0.5, -0.2, 0.1], dtype=crossgrad.float64, requires_grad=True)
    assert crossgrad.autograd.gradgradcheck(lambda a, m: ((a * m).softmax(0), (a * a).sum()), (_x(), w))
    v = crossgrad.tensor([1.0, -2.0, 0.5], dtype=crossgrad.float64)
    assert crossgrad.gradgradcheck(f, (_x(),), (v,))


def test_planted_second_order_bug_fails_while_gradcheck_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    _detached_tanh(monkeypatch)
    assert crossgrad.gradcheck(f, (_x(),))
    assert crossgrad.gradgradcheck(f, (_x(),), raise_exception=False) is False
    with pytest.raises(crossgrad.GradcheckError, match="culprit: node tanh") as err:
        crossgrad.autograd.gradgradcheck(f, (_x(),))
    report = err.value.report
    assert report.order == 2 and report.leaf("input0").suspect == "numeric"
    np.testing.assert_allclose(report.leaf("input0").grads["symbolic"],
                               report.leaf("input0").grads["finite_difference"], rtol=1e-6, atol=1e-8)


def test_cotangent_leaves_catch_a_wrong_first_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    """d^2 <f(x), v> / dx dv is J: a VJP off by a factor is caught at the grad_output leaf too."""
    rule = RULES["exp"]
    monkeypatch.setitem(RULES, "exp", Rule(rule.forward, lambda g, saved, node: (g * saved[1] * 1.01,)))
    with pytest.raises(crossgrad.GradcheckError) as err:
        crossgrad.gradgradcheck(lambda a: a.exp(), (_x(),))
    assert err.value.report.leaf("grad_output0").verdict == "mismatch"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \[2\], output 0 has shape \[3\]"):
        crossgrad.gradgradcheck(f, (_x(),), crossgrad.ones(2, dtype=crossgrad.float64))
    with pytest.raises(TypeError, match="input 0 is a numpy.ndarray"):
        crossgrad.gradgradcheck(f, (np.ones(3),))
    assert crossgrad.gradgradcheck(f, (crossgrad.ones(3, dtype=crossgrad.float64),))  # nothing requires grad
