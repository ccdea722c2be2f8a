"""cumprod, atan2, hardswish, hardsigmoid, mish as catalogue ops: the three witnesses agree where
the hand-written rules are most often wrong (cumprod at zeros, the hardswish/hardsigmoid bounds,
atan2 off the axes), a planted bug there is caught, and second order agrees with torch
(recorded in opsb2_sweep.json) and with differences of the first-order gradient."""

from __future__ import annotations

import crossgrad
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.numeric import dispatch, rules
from crossgrad.engine.numeric.ruletools import Rule

ZEROS = np.array([[1.5, 0.0, 2.0, 0.0, 3.0], [0.5, -2.0, 0.0, 1.25, -1.0], [0.7, 1.1, -0.9, 1.3, 2.0]])


def _x(values, dtype=np.float64):
    return crossgrad.tensor(np.asarray(values, dtype), requires_grad=True)


def _report(loss, **kw):
    return crossgrad.check(loss, **kw)


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cumprod_at_zeros_agrees(dtype, tier):
    x = _x(ZEROS, dtype)
    y = crossgrad.cumprod(x, 1) * crossgrad.tensor(np.linspace(-1, 1, 15).reshape(3, 5).astype(dtype))
    report = _report(y.sum(), tier=tier)
    assert report.verdict == "agree", str(report)
    y.sum().backward()
    # d/dx01 of sum_j w_j cumprod_j: the products of the others, not 0/0
    w = np.linspace(-1, 1, 15).reshape(3, 5)[0]
    expected = w[1] * 1.5 + w[2] * 1.5 * 2.0
    assert x.grad[0, 1].item() == pytest.approx(expected, rel=1e-6)
    assert x.grad[0, 4].item() == 0.0 and np.isfinite(x.grad.numpy()).all()


def test_naive_cumprod_rule_is_caught_at_zeros(monkeypatch):
    """Planted: the textbook revcumsum(g * out) / x, which gives nan at a zero input."""
    good = rules.RULES["cumprod"]

    def naive(g, saved, node):
        x, out = saved
        with np.errstate(all="ignore"):
            return (np.flip(np.cumsum(np.flip(g * out, -1), -1), -1) / x,)

    monkeypatch.setitem(rules.RULES, "cumprod", Rule(good.forward, naive))
    monkeypatch.setattr(dispatch, "RULES", rules.RULES)
    x = _x(ZEROS[:1])
    report = _report((crossgrad.cumprod(x, 1) * crossgrad.tensor(np.arange(1.0, 6.0))).sum())
    leaf = report.leaves[0]
    assert report.verdict in ("mismatch", "non_finite") and leaf.suspect == "numeric", str(report)


@pytest.mark.parametrize("op", ["hardswish", "hardsigmoid", "mish"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_agree_across_their_bounds(op, dtype):
    x = _x([-5.0, -3.5, -2.5, -1.0, 0.25, 0.5, 2.5, 3.5, 4.0], dtype)
    y = getattr(F, op)(x) * crossgrad.tensor(np.linspace(-1, 2, 9).astype(dtype))
    report = _report(y.sum())
    assert report.verdict == "agree", str(report)


@pytest.mark.parametrize("op", ["hardswish", "hardsigmoid"])
def test_bounds_are_conventions_not_mismatches(op):
    """At x = +-3 torch takes one side's slope; SymPy's piecewise and differences may take another."""
    x = _x([-3.0, 3.0, 1.0])
    report = _report(getattr(F, op)(x).sum())
    assert report.verdict in ("agree", "convention"), str(report)
    y = getattr(F, op)(x).sum()
    y.backward()
    want = {"hardswish": [0.0, 1.0, 1 / 3 + 0.5], "hardsigmoid": [0.0, 0.0, 1 / 6]}[op]
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


def test_planted_hardswish_slope_is_caught(monkeypatch):
    """Planted: the inside slope (2x + 3)/6 written as (x + 3)/6 (a dropped factor on x)."""
    good = rules.RULES["hardswish"]

    def wrong(g, saved, node):
        x = saved[0]
        return (g * np.where(x <= -3, 0.0, np.where(x < 3, (x + 3) / 6, 1.0)),)

    monkeypatch.setitem(rules.RULES, "hardswish", Rule(good.forward, wrong))
    monkeypatch.setattr(dispatch, "RULES", rules.RULES)
    report = _report(F.hardswish(_x([-2.0, 1.0, 2.0])).sum())
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric", str(report)


def test_planted_atan2_swap_is_caught(monkeypatch):
    """Planted: the two partials swapped (b da - a db written a da - b db)."""
    good = rules.RULES["atan2"]

    def wrong(g, saved, node):
        ga, gb = good.vjp(g, saved, node)
        return gb, ga

    monkeypatch.setitem(rules.RULES, "atan2", Rule(good.forward, wrong))
    monkeypatch.setattr(dispatch, "RULES", rules.RULES)
    a, b = _x([[0.5, -1.2], [2.0, 0.3]]), _x([[1.5, 0.7], [-0.4, 2.2]])
    report = _report(crossgrad.atan2(a, b).sum())
    assert report.verdict == "mismatch" and {leaf.suspect for leaf in report.leaves} == {"numeric"}, str(report)


@pytest.mark.parametrize("op", ["cumprod", "atan2", "hardswish", "mish"])
def test_second_order_matches_differences_of_the_gradient(op):
    """Hessian-vector product by double backward against central differences of the gradient."""
    calls = {"cumprod": lambda x: crossgrad.cumprod(x, 1), "atan2": lambda x: crossgrad.atan2(x, x.flip(0) + 0.5),
             "hardswish": lambda x: F.hardswish(x * 2.5), "mish": F.mish}
    w = np.linspace(-1, 1, 15).reshape(3, 5)
    v = np.cos(np.arange(15.0)).reshape(3, 5)

    def grad(values, create_graph=False):
        x = _x(values)
        y = (calls[op](x) * crossgrad.tensor(w)).sum()
        return x, crossgrad.autograd.grad(y, x, create_graph=create_graph)[0]

    x, g = grad(ZEROS, create_graph=True)
    hv = crossgrad.autograd.grad((g * crossgrad.tensor(v)).sum(), x)[0].numpy()
    eps = 1e-6
    fd = (grad(ZEROS + eps * v)[1].numpy() - grad(ZEROS - eps * v)[1].numpy()) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-6)


def test_long_cumprod_stays_cheap_for_the_symbolic_witness():
    """The SymPy lowering is a log-depth scan of a * b templates (not one n-factor product per
    element, whose partials were O(n^2) each): a 300-long row checks in the exact tier (0.2 s warm)."""
    from crossgrad.engine.symbolic.lowering_everyday import lower_cumprod

    stages = lower_cumprod([(4, 300)], {"dim": 1})
    assert len(stages) == 9 and all(len(g.template.free_symbols) <= 2 for s in stages for g in s.groups)
    x = _x(np.random.default_rng(0).uniform(0.9, 1.1, (4, 300)))
    report = _report((crossgrad.cumprod(x, 1) * crossgrad.tensor(np.linspace(-1, 1, 300))).sum(), tier="exact")
    assert report.verdict == "agree", str(report)
