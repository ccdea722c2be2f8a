"""Issue 13 conformance: a custom Function whose forward computes with numpy (PyTorch's own
"extending with numpy" pattern) is traced with that part as a constant; gradcheck must refuse it
(UntracedComputationError) rather than blame PyTorch's correct gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import crossgrad.torch as ct  # noqa: E402
from crossgrad.torch.untraced import UntracedComputationError  # noqa: E402

D = torch.float64


class NumpyExp(torch.autograd.Function):
    """exp computed by numpy; its backward is right."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = torch.from_numpy(np.exp(x.detach().numpy()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_numpy_forward_is_refused_not_blamed_on_pytorch(dtype: Any) -> None:
    x = torch.tensor([0.5, -1.0, 2.0], dtype=dtype, requires_grad=True)
    assert torch.autograd.gradcheck(NumpyExp.apply, (x.detach().double().requires_grad_(),))
    with pytest.raises(UntracedComputationError, match="outside PyTorch's ops") as caught:
        ct.gradcheck(NumpyExp.apply, (x,))
    assert isinstance(caught.value, ct.UnsupportedOpError)


def test_a_partly_numpy_forward_and_tolist_are_refused() -> None:
    x = torch.tensor([0.5, -1.0, 2.0], dtype=D, requires_grad=True)
    with pytest.raises(UntracedComputationError):  # x * exp(x), the exp through numpy: x still flows
        ct.gradcheck(lambda t: t * torch.from_numpy(np.exp(t.detach().numpy())), (x,))
    with pytest.raises(UntracedComputationError):
        ct.gradcheck(lambda t, w: t * torch.tensor(w.tolist(), dtype=D), (x, x.detach().clone().requires_grad_()))


def test_constants_that_do_not_come_from_the_inputs_still_pass() -> None:
    x = torch.tensor([0.5, -1.0, 2.0], dtype=D, requires_grad=True)
    table = torch.from_numpy(np.array([1.0, 2.0, 3.0]))
    assert ct.gradcheck(lambda t: t * table + torch.tensor([1.0, 0.0, 2.0], dtype=D), (x,)) is True
    assert ct.gradcheck(lambda t, k: t * k, (x, 2.5)) is True


def test_gradgradcheck_refuses_a_numpy_forward_too() -> None:
    x = torch.tensor([0.5, -1.0, 2.0], dtype=D, requires_grad=True)
    with pytest.raises(UntracedComputationError):
        ct.gradgradcheck(NumpyExp.apply, (x,))
    assert ct.gradgradcheck(lambda t: t.exp() * t, (x,)) is True
