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
    special = np.ones((600, 3))  # enough rows for the GEMV
    special[5, 0], special[7, 2] = np.inf, np.nan
    got = array_kernels.sum_leading(special, 1)
    assert got[0] == np.inf and got[1] == 600 and np.isnan(got[2])
    for odd in (a.transpose(1, 0, 2), np.zeros((0, 3)), np.arange(12).reshape(3, 4)):  # numpy's sum
        np.testing.assert_array_equal(array_kernels.sum_leading(odd, 1), odd.sum(axis=0))
    assert array_kernels.sum_leading(a, 0) is not None and array_kernels.sum_leading(a, 0).shape == a.shape


def _split_grads(x0: np.ndarray, pieces, retain: bool = False):
    """Gradients of sum_i w_i * piece_i(x) through the walker, and the same sum computed by hand."""
    x = crossgrad.tensor(x0, requires_grad=True)
    h = x * 1.0  # a non-leaf whose gradient the pieces share
    total, want = None, np.zeros_like(x0)
    for k, piece in enumerate(pieces):
        part = piece(h)
        w = np.linspace(-1, 1, part.numel()).reshape(tuple(part.shape)) + k
        term = (part * crossgrad.tensor(w)).sum()
        total = term if total is None else total + term
        view = np.zeros_like(x0)
        piece(view)[...] += w  # the numpy view of the same piece
        want += view
    total.backward(retain_graph=retain)
    return x.grad.numpy(), want, total


@pytest.mark.parametrize("pieces", [
    [lambda t: t[:, 0:3], lambda t: t[:, 3:5], lambda t: t[:, 5:8]],  # a split
    [lambda t: t[:, 0:4], lambda t: t[:, 2:6], lambda t: t[:, 1:2]],  # overlapping
    [lambda t: t[1], lambda t: t[:, 2:6], lambda t: t[0]],  # select and slice
    [lambda t: t[:, ::2], lambda t: t[:, 1::2]],  # strided
])
def test_pieces_add_into_one_gradient(pieces: list, monkeypatch: pytest.MonkeyPatch) -> None:
    from crossgrad.engine.numeric import autograd

    calls = []
    for vjp, add in list(autograd.ADDS_INTO.items()):
        def counted(g: np.ndarray, node: object, total: np.ndarray, add: object = add) -> None:
            calls.append(1)
            add(g, node, total)  # type: ignore[operator]

        monkeypatch.setitem(autograd.ADDS_INTO, vjp, counted)
    x0 = np.random.default_rng(5).standard_normal((3, 8))
    got, want, _ = _split_grads(x0, pieces)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
    assert len(calls) == len(pieces) - 1  # the first piece's VJP makes the array, the others add


def test_pieces_of_a_leaf_retain_graph_and_autograd_grad() -> None:
    x0 = np.random.default_rng(6).standard_normal((4, 6))
    x = crossgrad.tensor(x0, requires_grad=True)
    a, b, c = x.split(2, dim=1)
    loss = (a * 2).sum() + (b * 3).sum() + (c * c).sum()
    (g,) = crossgrad.autograd.grad(loss, [x], retain_graph=True)
    want = np.concatenate([np.full((4, 2), 2.0), np.full((4, 2), 3.0), 2 * x0[:, 4:]], axis=1)
    np.testing.assert_array_equal(g.numpy(), want)
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * want)  # accumulated, the first not overwritten
    assert np.array_equal(g.numpy(), want)


def test_a_replaced_slice_rule_is_not_bypassed(monkeypatch: pytest.MonkeyPatch) -> None:
    from crossgrad.engine.numeric import rules
    from crossgrad.engine.numeric.ruletools import Rule

    wrong = Rule(rules.SLICE.forward, lambda g, saved, node: (2 * rules.SLICE.vjp(g, saved, node)[0],))
    monkeypatch.setitem(rules.RULES, "slice", wrong)
    x0 = np.ones((2, 6))
    got, want, _ = _split_grads(x0, [lambda t: t[:, 0:2], lambda t: t[:, 2:4], lambda t: t[:, 4:6]])
    np.testing.assert_allclose(got, 2 * want)  # the planted factor 2 reaches every piece
