"""numeric/batched.py: copies of a moved linear weight write their products into one array,
bit for bit the rule's products stacked; a planted linear forward still runs as itself."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule


@pytest.mark.parametrize(("x_shape", "w_shape", "moved_x"), [
    ((2, 16, 8, 12), (20, 12), True), ((16, 8, 12), (36, 12), False), ((3, 7), (5, 7), True),
    ((7,), (5, 7), False), ((7,), (5, 7), True), ((2, 3, 7), (1, 7), True)])
def test_products_per_copy_equal_the_rule_stacked(x_shape, w_shape, moved_x):
    rng = np.random.default_rng(0)
    copies = 3
    x = rng.standard_normal(((copies,) if moved_x else ()) + x_shape)
    w = rng.standard_normal((copies,) + w_shape)
    b = rng.standard_normal(w_shape[:1])
    shapes, out = [x_shape, w_shape, w_shape[:1]], x_shape[:-1] + w_shape[:1]
    got = batched._linear(RULES["linear"].forward, (x, w, b), [moved_x, True, False], {}, shapes, out)
    fwd = RULES["linear"].forward
    want = np.stack([fwd((x[c] if moved_x else x, w[c], b), {})[0] for c in range(copies)])
    assert got.shape == want.shape and np.array_equal(got, want)


def test_a_planted_linear_forward_runs_as_itself(monkeypatch):
    real = RULES["linear"]
    planted = Rule(lambda xs, at: (real.forward(xs, at)[0] * 2, None), real.vjp)
    monkeypatch.setitem(RULES, "linear", planted)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((2, 5, 3))
    got = batched._linear(planted.forward, (x, w, None), [False, True, False], {}, [(4, 3), (5, 3), None], (4, 5))
    assert np.array_equal(got, np.stack([2 * (x @ w[c].T) for c in range(2)]))
