"""SymPy's second derivatives at order 2: the seed graph (18 elements) is checked three ways, and
the compiled Hessian is reused for new weights of the same graph but never for new constants."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.symbolic import second_order

F = crossgrad.nn.functional


def _seed_graph(values_seed: int, x_scale: float = 1.0) -> crossgrad.Tensor:
    rng = np.random.default_rng(values_seed)
    w = crossgrad.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    b = crossgrad.tensor(rng.standard_normal(3), requires_grad=True)
    return F.binary_cross_entropy_with_logits(crossgrad.matmul(crossgrad.ones(5, dtype=crossgrad.float64) * x_scale,
                                                               w) + b, crossgrad.zeros(3, dtype=crossgrad.float64))


def test_seed_graph_order2_is_checked_three_ways_and_the_hessian_is_compiled_once(monkeypatch) -> None:  # noqa: ANN001
    second_order._COMPILED.clear()
    first = crossgrad.check(_seed_graph(0), order=2, fd_seed=3)
    assert first.verdict == "agree" and first.tier == "exact", str(first)
    leaf = first.leaves[0]
    assert set(leaf.grads) == {"numeric", "symbolic", "finite_difference"} and leaf.shape == (3, 5, 3)
    np.testing.assert_allclose(leaf.grads["symbolic"], leaf.grads["numeric"], rtol=1e-10, atol=1e-13)

    def no_new_derivation(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the cached Hessian should have been reused")

    monkeypatch.setattr(second_order.sp, "lambdify", no_new_derivation)
    again = crossgrad.check(_seed_graph(1), order=2, fd_seed=3)  # new weights, same graph
    assert again.verdict == "agree" and "symbolic" in again.leaves[0].grads
    assert not np.allclose(again.leaves[0].grads["symbolic"], leaf.grads["symbolic"])
    with pytest.raises(AssertionError, match="cached Hessian"):  # a new constant is a new Hessian
        crossgrad.check(_seed_graph(1, x_scale=2.0), order=2)


def test_over_the_element_cap_the_tensor_tier_answers_and_exact_says_why() -> None:
    w = crossgrad.tensor(np.random.default_rng(0).standard_normal((5, 5)), requires_grad=True)
    loss = (crossgrad.tanh(w) * crossgrad.tanh(w.T)).sum()
    report = crossgrad.check(loss, order=2)
    assert report.tier == "tensor" and "25 differentiable elements, over the exact tier's 24" in report.tier_reason
    assert report.verdict == "agree" and set(report.leaves[0].grads) == {"numeric", "symbolic", "finite_difference"}
    exact_only = crossgrad.check(loss, order=2, tier="exact")
    assert "over the exact tier's 24; symbolic did not run" in str(exact_only)
    assert exact_only.verdict == "agree" and set(exact_only.leaves[0].grads) == {"numeric", "finite_difference"}
