"""The user-facing check forms: function form, gradcheck, claimed keys, foreign tensors."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.graph import GraphError
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule


def test_function_form_equals_the_tensor_form():
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    report = torch.check(lambda a: (a ** 2).sum(), x)
    assert report.verdict == "agree"
    np.testing.assert_allclose(report.grad("input0", "symbolic"), 2 * x.detach().numpy())


def test_claimed_keyed_by_tensor_or_name():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    assert torch.check(loss, claimed={w: np.array([2.0, 4.0])}).verdict == "agree"
    assert torch.check(loss, claimed={w: torch.tensor([2.0, 5.0])}).verdict == "mismatch"
    assert torch.check(loss, names={"w": w}, claimed={"w": [2.0, 4.0]}).verdict == "agree"


def test_unknown_claimed_key_lists_the_leaf_names():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"claimed.w: not a leaf that requires grad; .* are \['leaf0'\]"):
        torch.check((w * w).sum(), claimed={"w": np.array([2.0, 4.0])})
    stranger = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"the leaves are \['leaf0'\]"):
        torch.check((w * w).sum(), claimed={stranger: np.array([1.0])})


@pytest.mark.parametrize(("value", "fix"), [
    (np.ones(3), "crossgrad.tensor(values, requires_grad=True)"),
    ([1.0, 2.0], "pass a crossgrad Tensor"),
])
def test_foreign_values_are_refused_with_the_fix(value, fix):
    with pytest.raises(TypeError, match="not a crossgrad Tensor") as err:
        torch.check(value)
    assert fix in str(err.value)


def test_torch_tensor_is_refused_with_the_bridge_named():
    real = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"torch\.Tensor, not a crossgrad Tensor: use crossgrad.torch.gradcheck"):
        torch.check(real.ones(3, requires_grad=True).sum())


def test_gradcheck_passes_on_correct_functions_with_tuple_outputs():
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64, requires_grad=True)
    assert torch.gradcheck(lambda a, b: (torch.tanh(a @ b), torch.sigmoid(a).sum(dim=0)), (x, w))
    big = torch.randn(8, 8, dtype=torch.float64, requires_grad=True)  # 64 outputs: random directions
    assert torch.gradcheck(lambda a: torch.exp(a) * 3, (big,), eps=1e-6, nondet_tol=0.0, fast_mode=True)


def test_gradcheck_raises_on_a_planted_bug(monkeypatch):
    tanh = RULES["tanh"]
    monkeypatch.setitem(RULES, "tanh", Rule(tanh.forward, lambda g, s, n: tuple(2 * v for v in tanh.vjp(g, s, n))))
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(torch.GradcheckError, match="mismatch") as err:
        torch.gradcheck(torch.tanh, (x,))
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, AssertionError)
    assert "suspect: numeric" in str(err.value)
    assert torch.gradcheck(torch.tanh, (x,), raise_exception=False) is False
