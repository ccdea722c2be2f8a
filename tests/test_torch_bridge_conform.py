"""Issue 13 conformance, found by probing crossgrad.torch.gradcheck as torch.autograd.gradcheck is
called: nn.Bilinear (ATen's _trilinear) maps onto catalogue ops, the error carries torch's own
"with respect to input j" numbering, and a function with no input requiring grad is torch's
ValueError even when its output is not floating point."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import crossgrad.torch as ct  # noqa: E402
from crossgrad.engine.check import check  # noqa: E402
from torch.autograd.gradcheck import GradcheckError as TorchError  # noqa: E402

D = torch.float64


def _error(func: Any, inputs: Any) -> str:
    with pytest.raises(ct.GradcheckError) as caught:
        ct.gradcheck(func, inputs)
    with pytest.raises(TorchError) as theirs:
        torch.autograd.gradcheck(func, inputs)
    assert isinstance(caught.value, TorchError)
    return str(caught.value).split("\n\n")[0] + "\n" + str(theirs.value).splitlines()[0]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_bilinear_module_maps_and_agrees_with_torch(dtype: Any) -> None:
    torch.manual_seed(0)
    module = torch.nn.Bilinear(3, 4, 2).to(dtype)
    a = torch.randn(5, 3, dtype=dtype, requires_grad=True)
    b = torch.randn(5, 4, dtype=dtype, requires_grad=True)
    assert ct.gradcheck(module, (a, b)) is True
    report = check(ct.from_torch(module, (a, b)))
    assert report.verdict == "agree"
    tol = 1e-12 if dtype == D else 1e-5
    np.testing.assert_allclose(report.output, module(a, b).detach().double().numpy(), atol=tol)


def test_trilinear_with_other_expand_and_sum_dims() -> None:
    torch.manual_seed(1)
    inputs = (torch.randn(2, 3, dtype=D, requires_grad=True), torch.randn(3, 4, dtype=D, requires_grad=True),
              torch.randn(2, 4, dtype=D, requires_grad=True))
    def f(x: Any, y: Any, z: Any) -> Any:
        return torch._trilinear(x, y, z, [2], [0], [1], [1])
    assert ct.gradcheck(f, inputs) is True
    np.testing.assert_allclose(check(ct.from_torch(f, inputs)).output, f(*inputs).detach().numpy(), atol=1e-12)


class BilinearNoWeightGrad(torch.autograd.Function):
    """F.bilinear whose backward drops the weight's gradient (a planted bug)."""

    @staticmethod
    def forward(ctx: Any, x1: Any, x2: Any, weight: Any) -> Any:
        ctx.save_for_backward(x1, x2, weight)
        return torch.nn.functional.bilinear(x1, x2, weight)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x1, x2, weight = ctx.saved_tensors
        return torch.einsum("bo,oij,bj->bi", g, weight, x2), torch.einsum("bo,oij,bi->bj", g, weight, x1), None


def test_bilinear_forward_custom_function_with_a_missing_weight_gradient_is_caught() -> None:
    torch.manual_seed(2)
    x1, x2 = torch.randn(2, 3, dtype=D, requires_grad=True), torch.randn(2, 4, dtype=D, requires_grad=True)
    weight = torch.randn(2, 3, 4, dtype=D, requires_grad=True)
    assert ct.gradcheck(BilinearNoWeightGrad.apply, (x1, x2, weight), raise_exception=False) is False
    message = _error(BilinearNoWeightGrad.apply, (x1, x2, weight))
    assert "input 'weight' [2, 3, 4] float64" in message and "input 'x1'" not in message
    assert "with respect to input 2, 'weight'" in message


class Mul3(torch.autograd.Function):
    """a * b * c, the third input's gradient doubled (a planted bug)."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, c: Any) -> Any:
        ctx.save_for_backward(a, b, c)
        return a * b * c

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b, c = ctx.saved_tensors
        return g * b * c, g * a * c, 2 * g * a * b


@pytest.mark.parametrize("first_requires_grad", [True, False])
def test_the_message_carries_torchs_numbering_of_inputs_and_outputs(first_requires_grad: bool) -> None:
    torch.manual_seed(3)
    a, b, c = (torch.randn(3, dtype=D, requires_grad=True) for _ in range(3))
    a.requires_grad_(first_requires_grad)
    message = _error(lambda a, b, c: (a.sin(), Mul3.apply(a, b, c)), (a, b, c))
    theirs = re.search(r"Jacobian mismatch for output (\d) with respect to input (\d)", message.splitlines()[-1])
    assert theirs is not None  # torch numbers only the outputs and the inputs that require grad
    assert (theirs[1], theirs[2]) == (("1", "2") if first_requires_grad else ("0", "1"))
    assert f"numbering: {theirs[0]}, 'c')" in message


def test_no_input_requiring_grad_is_torchs_value_error_whatever_the_output() -> None:
    for check_ in (ct.gradcheck, ct.gradgradcheck, torch.autograd.gradcheck):
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            check_(lambda i: i * 2, (torch.tensor([1, 2]),))
    x = torch.randn(3, dtype=D, requires_grad=True)
    assert ct.gradcheck(lambda t: t > 0, (x,)) is True  # an input requires grad: nothing to check, as torch
