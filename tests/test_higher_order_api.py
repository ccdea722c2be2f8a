"""create_graph semantics: closed forms, any order, torch's errors, .grad with history."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.autograd import grad
from crossgrad.engine.numeric.autograd import SECOND_BACKWARD
from crossgrad.engine.numeric.higher import HigherOrderError

X = np.array([0.3, -0.7, 1.2])


def _x() -> crossgrad.Tensor:
    return crossgrad.tensor(X, dtype=crossgrad.float64, requires_grad=True)


def test_tanh_second_derivative_closed_form() -> None:
    x = _x()
    (g,) = grad(x.tanh().sum(), x, create_graph=True)
    assert type(g.grad_fn).__name__ == "MulBackward0"
    (h,) = grad(g.sum(), x)
    t = np.tanh(X)
    np.testing.assert_allclose(h.numpy(), -2 * t * (1 - t * t), rtol=1e-13)


def test_cubic_to_third_order() -> None:
    x = _x()
    (g,) = grad((x ** 3).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x, create_graph=True)
    (k,) = grad(h.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * X ** 2)
    np.testing.assert_allclose(h.detach().numpy(), 6 * X)
    np.testing.assert_allclose(k.detach().numpy(), [6.0, 6.0, 6.0])


def test_softmax_hessian_closed_form() -> None:
    """d2/dx2 of sum(c * softmax(x)): H = diag(p*c) - p (p*c)^T - (p*c) p^T ... checked by a
    loop of HVPs against (d/dx_j of p_i (c_i - p.c))."""
    c = np.array([0.5, -1.0, 2.0])
    x = _x()
    (g,) = grad((x.softmax(0) * crossgrad.tensor(c)).sum(), x, create_graph=True)
    p = np.exp(X) / np.exp(X).sum()
    s = p @ c
    rows = [grad(g[j], x, retain_graph=True)[0].numpy() for j in range(3)]
    jac_p = np.diag(p) - np.outer(p, p)
    want = np.diag(c - s) @ jac_p - np.outer(p, c @ jac_p)
    np.testing.assert_allclose(np.array(rows), want, rtol=1e-12, atol=1e-14)


def test_backward_create_graph_gives_grad_with_history() -> None:
    x = _x()
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    x2 = crossgrad.tensor(X, dtype=crossgrad.float64, requires_grad=True)
    (gg,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * X)
    del x2


def test_retain_graph_defaults_to_create_graph() -> None:
    x = _x()
    y = x.tanh().sum()
    grad(y, x, create_graph=True)
    (again,) = grad(y, x)  # still there: create_graph retained it
    np.testing.assert_allclose(again.numpy(), 1 - np.tanh(X) ** 2)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        grad(y, x, create_graph=True)


def test_create_graph_on_freed_graph_is_torchs_error() -> None:
    x = _x()
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError) as err:
        grad(y, x, create_graph=True)
    assert str(err.value) == SECOND_BACKWARD


def test_non_scalar_without_grad_outputs() -> None:
    x = _x()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        grad(x * 2, x, create_graph=True)


def test_unused_input_message_and_allow_unused() -> None:
    x, z = _x(), _x()
    with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
        grad((x * x).sum(), [x, z], create_graph=True)
    gx, gz = grad((x * x).sum(), [x, z], create_graph=True, allow_unused=True)
    assert gz is None and gx.grad_fn is not None


def test_grad_outputs_tensor_is_differentiated_through() -> None:
    """d/dv of <d(sum x^2 ... )>: grad(x*x, x, v) = 2 x v, so d/dv sum = 2 x."""
    x = _x()
    v = crossgrad.tensor([1.0, 2.0, 3.0], dtype=crossgrad.float64, requires_grad=True)
    (g,) = grad(x * x, x, grad_outputs=v, create_graph=True)
    gx, gv = grad(g.sum(), [x, v])
    np.testing.assert_allclose(gv.numpy(), 2 * X)
    np.testing.assert_allclose(gx.numpy(), 2 * np.array([1.0, 2.0, 3.0]))


def test_first_order_results_have_no_history() -> None:
    x = _x()
    (g,) = grad(x.tanh().sum(), x)
    assert g.grad_fn is None and not g.requires_grad


def test_unmapped_numpy_function_names_the_op() -> None:
    from crossgrad.engine.numeric import higher

    x = _x()
    y = x.exp().sum()
    node = y.grad_fn.next_functions[0][0]
    node.vjp = lambda g, saved, n: (g * np.sinh(saved[0]),)
    with pytest.raises(HigherOrderError, match="VJP of op 'exp' uses sinh"):
        grad(y, x, create_graph=True)
    assert issubclass(higher.HigherOrderError, NotImplementedError)


def test_cross_entropy_second_order_through_label_smoothing_and_weight() -> None:
    """The traced cross-entropy VJP equals the fused first-order one, and its HVP matches
    central differences of it."""
    rng = np.random.default_rng(3)
    xa, t, w = rng.standard_normal((4, 5)), np.array([0, 3, 1, 4]), rng.uniform(0.5, 2, 5)

    def first(arr: np.ndarray, graph: bool) -> crossgrad.Tensor:
        x = crossgrad.tensor(arr, dtype=crossgrad.float64, requires_grad=True)
        loss = crossgrad.nn.functional.cross_entropy(
            x, crossgrad.tensor(t), weight=crossgrad.tensor(w, dtype=crossgrad.float64),
            label_smoothing=0.2)
        return x, grad(loss, x, create_graph=graph)[0]

    x, g = first(xa, True)
    np.testing.assert_allclose(g.detach().numpy(), first(xa, False)[1].numpy(), rtol=1e-13)
    v = rng.standard_normal((4, 5))
    (hv,) = grad((g * crossgrad.tensor(v, dtype=crossgrad.float64)).sum(), x)
    eps = 1e-6
    fd = (first(xa + eps * v, False)[1].numpy() - first(xa - eps * v, False)[1].numpy()) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-6, atol=1e-8)


def test_graph_containing_a_gradient_is_checked_three_ways() -> None:
    """loss + |dloss/dx|^2 built with create_graph exports as catalogue ops and agrees."""
    rng = np.random.default_rng(0)
    w = crossgrad.tensor(rng.standard_normal((3, 2)), dtype=crossgrad.float64, requires_grad=True)
    x = crossgrad.tensor(rng.standard_normal((2, 3)), dtype=crossgrad.float64, requires_grad=True)
    loss = (x @ w).tanh().sum()
    (gx,) = grad(loss, x, create_graph=True)
    report = crossgrad.check(loss + (gx * gx).sum(), names={"w": w, "x": x})
    assert report.verdict == "agree", str(report)
    assert sum(1 for n in report.graph.nodes if getattr(n, "op", "") == "mul") >= 3
