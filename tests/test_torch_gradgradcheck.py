"""crossgrad.torch.gradgradcheck: PyTorch's double backward (a custom Function's backward included)
is the claimed witness for second derivatives; crossgrad's order-2 witnesses judge it."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

from crossgrad.torch import GradcheckError, gradcheck, gradgradcheck  # noqa: E402

D = torch.float64


class Tanh(torch.autograd.Function):
    """Right to every order: the backward uses the saved output, which carries its graph."""

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class DetachedTanh(Tanh):
    """Right to first order, wrong to second: the saved output is detached in backward."""

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        y = y.detach()
        return g * (1 - y * y)


class Scale(torch.autograd.Function):
    """x * w with a hand-written backward for both inputs (a mixed second derivative)."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w, g * x


def _x(*shape):
    torch.manual_seed(0)
    return torch.randn(*shape, dtype=D, requires_grad=True)


def test_a_correct_custom_function_passes_both_orders():
    x = _x(3, 2)
    assert gradcheck(Tanh.apply, (x,)) is True
    assert gradgradcheck(Tanh.apply, (x,)) is True
    assert gradgradcheck(lambda x, w: Scale.apply(x, w).sin(), (x, _x(3, 2) * 1)) is True


def test_a_backward_right_to_first_order_only_fails_gradgradcheck_naming_input_and_element():
    x = _x(3, 2)
    assert gradcheck(DetachedTanh.apply, (x,)) is True  # the first order is right
    with pytest.raises(GradcheckError) as err:
        gradgradcheck(DetachedTanh.apply, (x,))
    line = str(err.value).split("\n")[1]
    assert line.strip().startswith("input 'x' [6, 3, 2] float64: 6 of 36")
    assert "worst at [" in line and "suspect: claimed" in line and "PyTorch double backward" in line
    assert gradgradcheck(DetachedTanh.apply, (x,), raise_exception=False) is False


def test_a_small_network_with_given_grad_outputs_passes():
    torch.manual_seed(1)
    w, b = torch.randn(4, 3, dtype=D, requires_grad=True), torch.randn(4, dtype=D, requires_grad=True)
    x = torch.randn(5, 3, dtype=D, requires_grad=True)
    fn = lambda x: torch.sigmoid(torch.nn.functional.linear(x, w, b)).tanh()  # noqa: E731
    assert gradgradcheck(fn, (x,), torch.randn(5, 4, dtype=D)) is True


def test_a_wrong_second_derivative_of_a_closed_over_parameter_is_named():
    torch.manual_seed(2)
    w = torch.randn(3, dtype=D, requires_grad=True)
    x = torch.randn(3, dtype=D, requires_grad=True)
    assert gradgradcheck(lambda x: Tanh.apply(x * w), (x,)) is True
    with pytest.raises(GradcheckError) as err:
        gradgradcheck(lambda x: DetachedTanh.apply(x * w), (x,))
    assert "input 'x' [6, 3] float64" in str(err.value) and "suspect: claimed" in str(err.value)


def test_a_closed_over_tensor_used_twice_is_one_leaf():
    """Each use of a closed-over parameter is one get_attr node; both must be the same leaf, whose
    gradient PyTorch sums (a false failure before)."""
    torch.manual_seed(3)
    w = torch.randn(3, dtype=D, requires_grad=True)
    fn = lambda x: (x * w).sum() + (x * w).tanh().sum()  # noqa: E731
    assert gradcheck(fn, (_x(3),)) is True
    assert gradgradcheck(fn, (_x(3),)) is True
