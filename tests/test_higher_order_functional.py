"""crossgrad.autograd.functional against closed forms (and torch's shapes conventions)."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.autograd.functional import hessian, hvp, jacobian, jvp, vjp

A = np.array([[1.0, 2.0, -1.0], [0.5, -0.3, 2.0]])
X = np.array([0.3, -0.7, 1.2])


def _t(a: np.ndarray, grad: bool = False) -> crossgrad.Tensor:
    return crossgrad.tensor(a, dtype=crossgrad.float64, requires_grad=grad)


def f(x: crossgrad.Tensor) -> crossgrad.Tensor:
    """tanh(A x): J = diag(1 - y^2) A."""
    return (_t(A) @ x).tanh()


def cube(x: crossgrad.Tensor) -> crossgrad.Tensor:
    """sum x^3 + x0 x1: H = diag(6 x) + e01 + e10."""
    return (x ** 3).sum() + x[0] * x[1]


def _jac() -> np.ndarray:
    y = np.tanh(A @ X)
    return (1 - y * y)[:, None] * A


def _hess() -> np.ndarray:
    h = np.diag(6 * X)
    h[0, 1] = h[1, 0] = 1.0
    return h


def test_jacobian_and_vjp_jvp() -> None:
    np.testing.assert_allclose(jacobian(f, _t(X)).numpy(), _jac(), rtol=1e-13)
    v = np.array([1.0, -2.0])
    out, g = vjp(f, _t(X), _t(v))
    np.testing.assert_allclose(out.numpy(), np.tanh(A @ X))
    np.testing.assert_allclose(g.numpy(), v @ _jac(), rtol=1e-13)
    u = np.array([0.5, 1.0, -1.5])
    out, jv = jvp(f, _t(X), _t(u))
    np.testing.assert_allclose(jv.numpy(), _jac() @ u, rtol=1e-13)


def test_hessian_and_hvp() -> None:
    np.testing.assert_allclose(hessian(cube, _t(X)).numpy(), _hess(), rtol=1e-13)
    v = np.array([1.0, 2.0, 3.0])
    out, hv = hvp(cube, _t(X), _t(v))
    assert out.item() == pytest.approx((X ** 3).sum() + X[0] * X[1])
    np.testing.assert_allclose(hv.numpy(), _hess() @ v, rtol=1e-13)


def test_tuple_inputs_give_nested_blocks() -> None:
    def g(a: crossgrad.Tensor, b: crossgrad.Tensor) -> crossgrad.Tensor:
        return (a * a * b).sum()

    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ((haa, hab), (hba, hbb)) = hessian(g, (_t(a), _t(b)))
    np.testing.assert_allclose(haa.numpy(), np.diag(2 * b))
    np.testing.assert_allclose(hab.numpy(), np.diag(2 * a))
    np.testing.assert_allclose(hba.numpy(), np.diag(2 * a))
    np.testing.assert_allclose(hbb.numpy(), np.zeros((2, 2)))


def test_create_graph_results_are_differentiable() -> None:
    x = _t(X, grad=True)
    h = hessian(cube, x, create_graph=True)
    (d,) = crossgrad.autograd.grad(h.sum(), x)  # d/dx sum(H) = 6 per element
    np.testing.assert_allclose(d.numpy(), [6.0, 6.0, 6.0])


def test_bad_v_and_non_scalar() -> None:
    with pytest.raises(RuntimeError, match="v can only be None"):
        vjp(f, _t(X))
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be torch.Size\(\[3\]\) but got"):
        hvp(cube, _t(X), _t(np.ones(2)))
    with pytest.raises(RuntimeError, match="single element"):
        hessian(f, _t(X))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        vjp(lambda x: _t(np.ones(1)) * 1.0, _t(X), _t(np.ones(1)), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        vjp(lambda x, y: x * 2.0, (_t(X), _t(X)), _t(X), strict=True)
