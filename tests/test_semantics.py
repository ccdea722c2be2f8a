"""PyTorch's autograd semantics, each with its own test (messages as PyTorch prints them)."""

from __future__ import annotations

import math
import sys

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.numeric.autograd import SECOND_BACKWARD


def seed_graph(seed: int = 1):
    """The tutorial's graph: z = x @ w + b, loss = BCE-with-logits(z, y), x ones, y zeros."""
    torch.manual_seed(seed)
    x, y = torch.ones(5), torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    return x, y, w, b, z, F.binary_cross_entropy_with_logits(z, y)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


# --- .grad on leaves, accumulation ------------------------------------------------------
def test_seed_gradients_have_the_closed_form():
    """dL/db_j = (sigmoid(z_j) - y_j) / 3 and every row of dL/dw equals it (x is all ones)."""
    x, y, w, b, z, loss = seed_graph()
    loss.backward()
    zv = np.ones(5) @ w.detach().numpy().astype(np.float64) + b.detach().numpy()
    np.testing.assert_allclose(b.grad.numpy(), (sigmoid(zv) - 0) / 3, rtol=1e-6)
    for row in w.grad.numpy():
        np.testing.assert_array_equal(row, b.grad.numpy())


def test_grad_only_on_leaves_that_require_grad():
    x, y, w, b, z, loss = seed_graph()
    loss.backward()
    assert x.grad is None and y.grad is None
    assert w.is_leaf and b.is_leaf and not z.is_leaf
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert z.grad is None


def test_retain_grad_keeps_a_non_leaf_gradient():
    x, y, w, b, z, loss = seed_graph()
    z.retain_grad()
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), b.grad.numpy())  # dz/db is the identity


def test_gradients_accumulate_until_zeroed():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    first = w.grad
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 8.0])
    assert first is w.grad  # accumulated in place, as PyTorch's AccumulateGrad does
    w.grad.zero_()
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


def test_one_gradient_reaching_two_leaves_is_not_shared():
    a = torch.tensor([1.0], requires_grad=True)
    b = torch.tensor([2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(5)
    assert b.grad.item() == 1.0


# --- second backward, retain_graph ------------------------------------------------------
def test_second_backward_raises_pytorchs_message():
    *_, loss = seed_graph()
    loss.backward()
    with pytest.raises(RuntimeError) as err:
        loss.backward()
    assert str(err.value) == SECOND_BACKWARD
    assert "Trying to backward through the graph a second time" in SECOND_BACKWARD
    assert "Specify retain_graph=True" in SECOND_BACKWARD


def test_saved_values_are_freed_unless_retained():
    *_, loss = seed_graph()
    loss.backward(retain_graph=True)
    assert loss.grad_fn.saved is not None
    loss.backward()
    assert loss.grad_fn.saved is None


def test_retain_graph_doubles_the_gradient():
    *_, w1, b1, _, loss1 = seed_graph(1)
    loss1.backward()
    *_, w2, b2, _, loss2 = seed_graph(1)
    loss2.backward(retain_graph=True)
    loss2.backward()
    np.testing.assert_allclose(w2.grad.numpy(), 2 * w1.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b2.grad.numpy(), 2 * b1.grad.numpy(), rtol=1e-6)


def test_graph_without_saved_tensors_can_backward_twice_as_in_pytorch():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    s = (a + 1).sum()  # AddBackward0 and SumBackward0 save no tensors
    s.backward()
    s.backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


# --- backward's own errors --------------------------------------------------------------
def test_non_scalar_backward_needs_a_gradient():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (a * 2).backward()
    (a * 2).backward(torch.tensor([1.0, 10.0]))
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 20.0])


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does "
                                           "not have a grad_fn"):
        torch.ones(3).sum().backward()


# --- no_grad, detach, in place ----------------------------------------------------------
def test_no_grad_stops_tracking():
    x, y, w, b, z, _ = seed_graph()
    assert z.requires_grad
    with torch.no_grad():
        z2 = torch.matmul(x, w) + b
        with torch.enable_grad():
            assert (w * 2).requires_grad
    assert not z2.requires_grad and z2.grad_fn is None
    assert torch.is_grad_enabled()


def test_no_grad_as_decorator_and_set_grad_enabled():
    w = torch.ones(2, requires_grad=True)

    @torch.no_grad()
    def double(t):
        return t * 2

    assert not double(w).requires_grad
    torch.set_grad_enabled(False)
    assert not (w * 2).requires_grad
    torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad


def test_detach_shares_values_and_stops_tracking():
    x, y, w, b, z, _ = seed_graph()
    z_det = z.detach()
    assert z.requires_grad and not z_det.requires_grad and z_det.grad_fn is None
    z_det[0] = 100.0
    assert z.detach().numpy()[0] == 100.0
    # detached values enter the next graph as a constant: no gradient flows back through them
    (z_det * w.sum()).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(w.grad.numpy(), np.full((5, 3), z_det.numpy().sum()), rtol=1e-6)


def test_inplace_on_a_leaf_that_requires_grad():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        w.add_(1)
    with torch.no_grad():
        w.copy_(torch.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 2.0, 3.0])


def test_requires_grad_flags_only_on_leaves():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        (w * 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2]).requires_grad_()


def test_numpy_of_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        torch.ones(2, requires_grad=True).numpy()


# --- kinks ------------------------------------------------------------------------------
@pytest.mark.parametrize(("fn", "expected"), [
    (torch.relu, 0.0), (torch.abs, 0.0),
    (lambda t: torch.maximum(t, torch.tensor(0.0)), 0.5),
    (lambda t: torch.minimum(t, torch.tensor(0.0)), 0.5),
])
def test_subgradients_at_kinks_follow_pytorch(fn, expected):
    x = torch.tensor(0.0, requires_grad=True)
    fn(x).backward()
    assert x.grad.item() == expected


def test_maximum_tie_splits_the_gradient_between_both_sides():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor([1.0, 5.0, 0.0], requires_grad=True)
    torch.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])


# --- depth, dtype -----------------------------------------------------------------------
def test_backward_through_a_100000_op_chain():
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    assert sys.getrecursionlimit() < 100_000
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001 ** 100_000, rel=1e-9)


def test_float32_stays_float32_through_a_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    loss = F.cross_entropy(net(torch.randn(5, 4)) * 0.5 + 1, torch.tensor([0, 1, 0, 1, 1]))
    assert loss.dtype is torch.float32
    loss.backward()
    assert all(p.grad.dtype is torch.float32 for p in net.parameters())


def test_float64_inputs_give_float64_results():
    a = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert (a * 2.5).dtype is torch.float64


# --- autograd.grad, next_functions ------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_grad():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    h = a * a
    s = (h * 3).sum()
    ga, gh = torch.autograd.grad(s, [a, h])
    np.testing.assert_allclose(ga.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(gh.numpy(), [3.0, 3.0])
    assert a.grad is None


def test_autograd_grad_unused_inputs():
    a = torch.tensor([1.0], requires_grad=True)
    c = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="at index 1 appears to not have been used"):
        torch.autograd.grad((a * 2).sum(), [a, c])
    ga, gc = torch.autograd.grad((a * 2).sum(), [a, c], allow_unused=True)
    assert ga.item() == 2.0 and gc is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.autograd.grad((a * 2).sum(), [torch.ones(1)])


def test_next_functions_walk_back_to_the_leaves():
    x, y, w, b, z, loss = seed_graph()
    assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
    (add, _), (none, _), *_ = loss.grad_fn.next_functions
    assert none is None and type(add).__name__ == "AddBackward0"
    (squeeze, _), (acc_b, _) = add.next_functions
    assert type(squeeze).__name__ == "SqueezeBackward4"
    assert acc_b.variable is b
    assert squeeze.next_functions[1][0].variable is w


# --- creation and printing --------------------------------------------------------------
def test_manual_seed_is_reproducible():
    torch.manual_seed(3)
    a = torch.randn(4)
    torch.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), torch.randn(4).numpy())
    gen = torch.Generator(3)
    np.testing.assert_array_equal(a.numpy(), torch.randn(4, generator=gen).numpy())


@pytest.mark.parametrize(("make", "text"), [
    (lambda: torch.tensor(0.5), "tensor(0.5000)"),
    (lambda: torch.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: torch.tensor([[-0.1977, -0.0396], [1.1434, 1.1842]], dtype=torch.float64),
     "tensor([[-0.1977, -0.0396],\n        [ 1.1434,  1.1842]], dtype=crossgrad.float64)"),
    (lambda: torch.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: torch.nn.Parameter(torch.ones(2)),
     "Parameter containing:\ntensor([1., 1.], requires_grad=True)"),
    (lambda: torch.ones(5).shape, "crossgrad.Size([5])"),
])
def test_printing_looks_like_pytorch(make, text):
    assert repr(make()) == text


def test_creation_functions():
    assert torch.zeros(2, 3).shape == (2, 3) and torch.zeros(2, 3).dtype is torch.float32
    assert torch.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert torch.arange(4).dtype is torch.int64 and torch.arange(4).tolist() == [0, 1, 2, 3]
    assert torch.arange(0, 1, 0.5).tolist() == [0.0, 0.5]
    assert torch.tensor([[1.0, 2.0]]).ndim == 2
    arr = np.zeros(3)
    shared = torch.from_numpy(arr)
    arr[0] = 1.0
    assert shared.tolist()[0] == 1.0 and shared.dtype is torch.float64
    assert torch.rand(100).numpy().min() >= 0.0 and torch.rand(100).numpy().max() < 1.0
    assert torch.tensor([3.5]).item() == 3.5
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        torch.ones(2).item()


def test_indexing_by_int_and_slice_records_select_and_slice():
    a = torch.arange(12).float().reshape(3, 4).requires_grad_()
    part = a[1, 1:3]
    assert part.tolist() == [5.0, 6.0]
    assert part.grad_fn.name() == "SliceBackward0"
    assert part.grad_fn.next_functions[0][0].name() == "SelectBackward0"
    part.sum().backward()
    expected = np.zeros((3, 4))
    expected[1, 1:3] = 1
    np.testing.assert_array_equal(a.grad.numpy(), expected)
    assert math.isclose(a[-1, -1].item(), 11.0)


def test_the_graph_keeps_its_leaves_alive():
    """As in PyTorch: a leaf created in a helper survives as long as a graph uses it."""

    def make():
        w = torch.tensor([2.0, 3.0], requires_grad=True)
        return (w * w).sum()

    loss = make()
    leaf = loss.grad_fn.next_functions[0][0].next_functions[0][0].variable
    loss.backward()
    np.testing.assert_allclose(leaf.grad.numpy(), [4.0, 6.0])
    assert torch.check(make()).verdict == "agree"


def test_scalar_operands_keep_the_sign_of_zero_and_nan():
    x = torch.tensor([2.0], requires_grad=True)
    assert np.signbit((x * 0.0).detach().numpy()[0]) == False  # noqa: E712
    assert np.signbit((x * -0.0).detach().numpy()[0]) == True  # noqa: E712
    assert np.isnan((x * float("nan")).detach().numpy()[0])
