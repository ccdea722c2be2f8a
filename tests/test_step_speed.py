"""The GPT step's faster kernels (issue 11): same values as the formulas they replace, and saved
derived values read at first order only (under create_graph they are recomputed)."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.numeric import array_kernels
from crossgrad.engine.numeric.rules_elementwise import ELEMENTWISE_RULES, _gelu_vjp

F = crossgrad.nn.functional


def test_float32_gelu_slope_is_read_at_first_order_only() -> None:
    x0 = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32) * 3
    weights = np.linspace(-1, 2, 20, dtype=np.float32).reshape(4, 5)

    def grads(corrupt: bool, create_graph: bool) -> np.ndarray:
        x = crossgrad.tensor(x0, requires_grad=True)
        y = F.gelu(x)
        x_saved, out, phi, slope = y.grad_fn.saved
        assert phi is None and slope.dtype == np.float32
        if corrupt:
            y.grad_fn.saved = (x_saved, out, None, np.full_like(slope, 7.0))
        (gx,) = crossgrad.autograd.grad((y * crossgrad.tensor(weights)).sum(), [x], create_graph=create_graph)
        return gx.detach().numpy()

    first = grads(False, False)
    np.testing.assert_array_equal(first, _gelu_vjp(weights, x0, None, {"approximate": "none"}))
    assert np.abs(grads(True, False) - first).max() > 1  # first order reads the saved slope
    clean, again = grads(False, True), grads(True, True)
    np.testing.assert_array_equal(again, clean)  # create_graph recomputes it from x
    np.testing.assert_allclose(clean, first, rtol=2e-6, atol=1e-6)  # the erf op's Phi, 1 ulp off


def test_float32_gelu_vjp_equals_its_formula_on_a_broadcast_gradient() -> None:
    x = np.random.default_rng(1).standard_normal((3, 40_001)).astype(np.float32)
    out, saved = ELEMENTWISE_RULES["gelu"].forward((x,), {"approximate": "none"})
    g = np.broadcast_to(np.float32(0.75), x.shape)

    class Node:
        attrs = {"approximate": "none"}

    (gx,) = ELEMENTWISE_RULES["gelu"].vjp(g, saved, Node())
    np.testing.assert_array_equal(gx, _gelu_vjp(g, x, out, Node.attrs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_row_max_equals_max(dtype: type) -> None:
    x = np.random.default_rng(2).standard_normal((5, 7, 64)).astype(dtype)
    x[0, :, 10:] = -np.inf
    x[1, 0] = -np.inf
    x[2, 1, 3] = np.nan
    x[3, 2] = 0.0
    x[3, 2, 5] = -0.0
    for dim in (-1, 1, 0):
        want = x.max(axis=dim, keepdims=True)
        got = array_kernels.row_max(x, dim)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    with pytest.raises(ValueError):  # an empty row has no max, as before
        array_kernels.row_max(np.zeros((3, 0), dtype), 1)
    assert array_kernels.row_max(np.array([1, 5, 2]), 0).tolist() == [5]


def test_sum_leading_is_the_leading_axes_sum() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((16, 64, 40))
    exact = a.sum(axis=(0, 1))
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        got = array_kernels.sum_leading(a.astype(dtype), 2)
        assert got.dtype == dtype and got.shape == (40,)
        np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)
    np.testing.assert_allclose(array_kernels.sum_leading(a, 1), a.sum(axis=0), rtol=1e-12)
    assert array_kernels.sum_leading(np.array([[np.inf, 1.0], [2.0, np.nan]]), 1)[0] == np.inf
    for odd in (a.transpose(1, 0, 2), np.zeros((0, 3)), np.arange(12).reshape(3, 4)):  # numpy's sum
        np.testing.assert_array_equal(array_kernels.sum_leading(odd, 1), odd.sum(axis=0))
    assert array_kernels.sum_leading(a, 0) is not None and array_kernels.sum_leading(a, 0).shape == a.shape
