"""Part-A ops evaluated exactly on their kinks: PyTorch's convention (numeric), SymPy's and finite
differences' differ there, and the verdict says convention, not mismatch; a real bug on the same
points is still a mismatch."""

from __future__ import annotations

import crossgrad
import crossgrad.nn.functional as F
import pytest
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

X = [-0.5, 0.5, 0.0, 1.0, -1.0]
M = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]

CASES = {
    "clamp": (X, lambda x: x.clamp(-0.5, 0.5)),
    "clamp_min": (X, lambda x: crossgrad.clamp(x, min=0.0)),
    "hardtanh": (X, lambda x: F.hardtanh(x, -0.5, 0.5)),
    "leaky_relu": (X, lambda x: F.leaky_relu(x, 0.2)),
    "elu": (X, lambda x: F.elu(x, 0.5)),
    "max_dim": (M, lambda x: x.max(1).values),
    "min_dim": (M, lambda x: x.min(dim=1, keepdim=True).values),
    "amax": (M, lambda x: x.amax(1)),
    "amin": (M, lambda x: x.amin(-1)),
}


def _loss(values, fn, dtype):
    x = crossgrad.tensor(values, dtype=dtype, requires_grad=True)
    out = fn(x)
    return (out * crossgrad.arange(1.0, 1.0 + out.numel(), dtype=dtype).reshape(out.shape)).sum()


@pytest.mark.parametrize("dtype", [crossgrad.float32, crossgrad.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_on_the_kink_is_a_convention(name, dtype):
    values, fn = CASES[name]
    report = crossgrad.check(_loss(values, fn, dtype))
    assert report.verdict == "convention", str(report)


@pytest.mark.parametrize("name", ["clamp", "hardtanh", "max_dim", "amax"])
def test_a_wrong_sign_on_the_kink_points_is_still_a_mismatch(monkeypatch, name):
    values, fn = CASES[name]
    op = name  # the catalogue op of these cases has the case's name
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(rule.forward, lambda g, s, n: tuple(-v for v in rule.vjp(g, s, n))))
    report = crossgrad.check(_loss(values, fn, crossgrad.float64))
    leaf = report.leaves[0]
    assert report.verdict == "mismatch" and leaf.suspect == "numeric", str(report)
