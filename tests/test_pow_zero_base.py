"""pow with a tensor exponent at a zero base, both requiring grad: torch's derivatives.yaml masks
d/d exponent where base == 0 and exponent >= 0 (pow_backward_exponent) and d/d base where
exponent == 0 (pow_backward_self). The numeric rule, the exact tier (SymPy: the derivative of
a**b restricted to those lines) and the tensor tier give torch's values; the exact tier's
0 ** -0.5 is inf, not a NaN for the whole template."""

from __future__ import annotations

import crossgrad as cg
import numpy as np
import pytest
import sympy as sp
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.symbolic.templates import args, partials

BASE = [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -1.5, -2.0]
EXPONENT = [2.0, 0.5, 0.0, -1.0, 1.0, 3.0, 2.0, 0.5]
# torch 2.13's a.grad and b.grad of (a ** b).sum() (float64 and float32 alike)
TORCH_A = [0.0, np.inf, 0.0, -np.inf, 1.0, 12.0, -3.0, np.nan]
TORCH_B = [0.0, 0.0, 0.0, -np.inf, 0.0, 8 * np.log(2), np.nan, np.nan]


@pytest.mark.parametrize("dtype", [cg.float32, cg.float64])
def test_numeric_matches_torch(dtype: object) -> None:
    a = cg.tensor(BASE, dtype=dtype, requires_grad=True)
    b = cg.tensor(EXPONENT, dtype=dtype, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), TORCH_A, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), TORCH_B, rtol=1e-6)


def test_symbolic_partials_are_derivatives_on_the_lines() -> None:
    """Off the lines b = 0 and a = 0 they are sympy.diff(a**b); on them, the derivative of the
    restricted function (a**0 = 1; 0**b = 0 for b > 0)."""
    a, b = args(2)
    da, db = partials(a ** b, (a, b))
    for x, y in [(1.5, 0.7), (0.3, -1.2), (2.0, 3.0)]:
        assert float(da.subs({a: x, b: y})) == pytest.approx(y * x ** (y - 1))
        assert float(db.subs({a: x, b: y})) == pytest.approx(x ** y * np.log(x))
    assert da.subs({a: 0, b: 0}) == 0 and da.subs({a: 0, b: 1}) == 1
    assert db.subs({a: 0, b: sp.Rational(1, 2)}) == 0 and db.subs({a: 0, b: 0}) == 0


def _graph(dtype: type, base: list[float], exponent: list[float]) -> Graph:
    w = np.linspace(-1.0, 2.0, len(base)).astype(dtype)
    return Graph((Leaf("a", np.array(base, dtype), True), Leaf("b", np.array(exponent, dtype), True),
                  Leaf("w", w, False), OpNode("p", "pow_tensor", ("a", "b")), OpNode("q", "mul", ("p", "w")),
                  OpNode("l", "sum", ("q",))), "l")


FINITE = ([0.0, 0.0, 0.0, 2.0, 1.5], [2.0, 1.0, 3.0, 3.0, 0.5])  # a zero base with b >= 1: every gradient finite


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_agrees_at_a_zero_base(tier: str, dtype: type) -> None:
    report = check(CheckRequest(_graph(dtype, *FINITE), tier=tier))
    assert report.verdict == "agree", str(report)
    b = next(leaf for leaf in report.leaves if leaf.name == "b")
    assert b.grads["symbolic"][:3].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_symbolic_gives_torchs_values_everywhere(tier: str) -> None:
    """Infinite and NaN entries included (the check is non_finite there, as it should be)."""
    report = check(CheckRequest(_graph(np.float64, BASE, EXPONENT), tier=tier, witnesses=("numeric", "symbolic")))
    w = np.linspace(-1.0, 2.0, len(BASE))
    grads = {leaf.name: leaf.grads["symbolic"] for leaf in report.leaves}
    np.testing.assert_allclose(grads["a"], np.array(TORCH_A) * w, rtol=1e-12)
    np.testing.assert_allclose(grads["b"], np.array(TORCH_B) * w, rtol=1e-12)


def test_a_planted_exponent_bug_at_zero_is_caught() -> None:
    """The old rule's NaN at a zero base, planted back: mismatch, numeric the suspect."""
    rule = RULES["pow_tensor"]

    def vjp(g: np.ndarray, s: tuple, node: object) -> tuple:
        ga, gb = rule.vjp(g, s, node)
        a = s[0]
        return ga, np.where(a == 0, np.nan, gb) if gb is not None else gb

    RULES["pow_tensor"] = Rule(rule.forward, vjp)
    try:
        report = check(CheckRequest(_graph(np.float64, *FINITE), tier="exact"))
    finally:
        RULES["pow_tensor"] = rule
    assert report.verdict == "mismatch"
    assert next(leaf for leaf in report.leaves if leaf.name == "b").suspect == "numeric"


def test_same_as_torch() -> None:
    torch = pytest.importorskip("torch")
    a = torch.tensor(BASE, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(EXPONENT, dtype=torch.float64, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), TORCH_A, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), TORCH_B, rtol=1e-12)
