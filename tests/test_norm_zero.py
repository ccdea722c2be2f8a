"""A 2-norm at the zero vector: PyTorch's gradient there is 0 (a subgradient; x / |x| is 0 / 0).
Both symbolic tiers give 0 too (sqrt of the sum of squares as a Piecewise that is 0 at 0), so
a check of norm (or of cdist at a zero distance) at zero agrees instead of blaming the symbolic
witness for a NaN. The exact tier evaluates a Piecewise branch only where its condition holds
(no common subexpression is hoisted out of it)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from crossgrad import check, tensor
from crossgrad.engine.symbolic import raw
from mpmath.libmp import from_float


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_a_zero_row_of_a_2_norm_has_gradient_zero_in_every_witness(tier: str) -> None:
    x = tensor(np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]), requires_grad=True)
    report = check((x.norm(dim=1) * tensor(np.array([1.0, 3.0]))).sum(), tier=tier)
    assert report.verdict == "agree", str(report)
    want = [[0.0, 0.0, 0.0], [1 / 3 * 3, 2 / 3 * 3, 2 / 3 * 3]]  # row 1: 3 x / |x|, |x| = 3
    for witness in ("numeric", "symbolic", "finite_difference"):
        np.testing.assert_allclose(report.leaves[0].grads[witness], want, rtol=1e-9, atol=1e-9, err_msg=witness)
    assert report.leaves[0].grads["symbolic"][0].tolist() == [0.0, 0.0, 0.0]  # exactly, not nan


def test_a_piecewise_branch_is_not_evaluated_outside_its_condition() -> None:
    """d/dx0 of Piecewise((sqrt(s), s > 0), (0, True)), s = x0^2 + x1^2: x0 / sqrt(s), 0 at the origin."""
    x0, x1 = sp.symbols("x0 x1")
    s = x0**2 + x1**2
    grads = [sp.diff(sp.Piecewise((sp.sqrt(s), s > 0), (0, True)), v) for v in (x0, x1)]
    fn = raw.compile_raw((x0, x1), grads, many=True)
    assert raw.to_floats(fn(from_float(0.0), from_float(0.0))) == [0.0, 0.0]
    assert raw.to_floats(fn(from_float(3.0), from_float(4.0))) == [0.6, 0.8]
