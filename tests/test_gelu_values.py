"""gelu's values-only stand-in (finite differences' copies): bit for bit the rule's output, chunk
by chunk; other dtypes and the tanh form are the rule's; a planted gelu forward runs as itself."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.numeric import gelu_kernel
from crossgrad.engine.numeric.batched import Batched
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.numeric.values_only import STAND_INS


def _inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    wide = rng.standard_normal((3, gelu_kernel.VALUES_CHUNK // 2 + 7)) * 2  # several chunks, a ragged last one
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -40.0, 40.0, 0.84375 * np.sqrt(2)])
    return [wide, wide[:, ::3], wide.T, special, rng.standard_normal(5)]


@pytest.mark.parametrize("index", range(5))
def test_values_equal_the_rule_bit_for_bit(index):
    x = _inputs()[index]
    rule = RULES["gelu"].forward
    with np.errstate(all="ignore"):  # (-inf gives -inf * 0 = nan in both)
        want = rule((x,), {"approximate": "none"})[0]
        got = STAND_INS[rule]((x,), {"approximate": "none"})[0]
    assert got.shape == want.shape and np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_other_forms_are_the_rule():
    rule = RULES["gelu"].forward
    x = np.linspace(-3, 3, 11)
    for value, at in ((x, {"approximate": "tanh"}), (x.astype(np.float32), {"approximate": "none"}),
                      (np.float64(0.5), {"approximate": "none"})):
        assert np.array_equal(STAND_INS[rule]((value,), at)[0], rule((value,), at)[0])


def test_a_planted_gelu_forward_runs_as_itself_in_finite_differences(monkeypatch):
    import crossgrad
    from crossgrad.engine.graph import validate
    from crossgrad.engine.numeric.export import to_graph

    x = crossgrad.tensor(np.linspace(-2, 2, 6), requires_grad=True)
    plan = validate(to_graph(crossgrad.nn.functional.gelu(x).sum(), {})[0])
    leaf = plan.grad_leaves()[0]
    stack = np.stack([np.linspace(-2, 2, 6), np.linspace(-1, 1, 6)])
    real = RULES["gelu"]
    honest = Batched(plan, {leaf: stack[0]}).outputs({leaf: stack})
    monkeypatch.setitem(RULES, "gelu", Rule(lambda xs, at: (real.forward(xs, at)[0] + 1.0, None), real.vjp))
    planted = Batched(plan, {leaf: stack[0]}).outputs({leaf: stack})
    assert np.allclose(planted, honest + 6.0)
