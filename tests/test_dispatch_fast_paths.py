"""The op dispatch's unrolled one/two-input paths and the tensor-op-number shortcut (issue 14's
per-op overhead) keep PyTorch's results: dtypes, signed zeros, grad_fn wiring, None inputs."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest

F = crossgrad.nn.functional


def test_number_operands_keep_dtype_and_signed_zero() -> None:
    x = crossgrad.tensor([1.5, -2.0], dtype=crossgrad.float32, requires_grad=True)
    assert (x * 2).dtype == crossgrad.float32 and (x * 2.5).dtype == crossgrad.float32
    assert np.array_equal(np.signbit((x * -0.0)._data), [True, False])  # -0.0 and 0.0 are different scalars
    assert np.array_equal(np.signbit((x * 0.0)._data), [False, True])
    assert (x * 1)._data.tolist() == (x * 1.0)._data.tolist() == [1.5, -2.0]
    assert (x * True).dtype == crossgrad.float32  # bool takes the general path
    i = crossgrad.tensor([1, 2])
    assert (i * 2).dtype == crossgrad.int64 and (i * 0.5).dtype == crossgrad.float32  # int op float: default float


def test_recorded_nodes_wire_one_two_and_three_inputs() -> None:
    x = crossgrad.tensor([[1.0, -2.0]], requires_grad=True)
    w = crossgrad.tensor([[0.5, 0.25], [1.0, -1.0]], requires_grad=True)
    b = crossgrad.tensor([0.1, 0.2])
    y = x * 3.0
    assert type(y.grad_fn).__name__ == "MulBackward0"
    assert y.grad_fn.next_functions[1] == (None, 0)  # the number needs no grad
    out = F.linear(crossgrad.tanh(y), w, b) + F.linear(x, w)  # three inputs (b constant), and a None bias
    out.sum().backward()
    t = np.tanh(3 * np.array([[1.0, -2.0]]))
    wa = np.array([[0.5, 0.25], [1.0, -1.0]])
    np.testing.assert_allclose(w.grad._data, t.repeat(2, 0) + np.array([[1.0, -2.0]] * 2), rtol=1e-6)
    np.testing.assert_allclose(x.grad._data, (wa.sum(0) * 3 * (1 - t**2)) + wa.sum(0), rtol=1e-6)


@pytest.mark.parametrize("create_graph", [False, True])
def test_second_derivative_through_number_ops(create_graph: bool) -> None:
    x = crossgrad.tensor([0.3, -0.7], dtype=crossgrad.float64, requires_grad=True)
    (g,) = crossgrad.autograd.grad((crossgrad.tanh(x * 2.0 + 1.0) * 0.5).sum(), x, create_graph=True)
    (h,) = crossgrad.autograd.grad(g.sum(), x, create_graph=create_graph)
    t = np.tanh(2 * x._data + 1)
    np.testing.assert_allclose(h._data, 0.5 * 4 * (-2 * t * (1 - t**2)))
