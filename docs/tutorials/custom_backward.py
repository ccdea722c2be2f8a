"""Tutorial script: is my custom backward right? (needs torch: pip install "crossgrad[torch]")

    python docs/tutorials/custom_backward.py

A custom torch.autograd.Function for a scaled tanh, first with a correct backward, then with the
classic mistake (the derivative computed from the input instead of the output). crossgrad's
gradcheck captures the forward as catalogue ops, takes PyTorch's gradient (your backward) as the
claimed witness and judges it three ways; the failure names the input and the element.
"""

from __future__ import annotations

import crossgrad.torch as cgt
import torch


class ScaledTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):  # noqa: ANN001, ANN205
        y = torch.tanh(x * w)
        ctx.save_for_backward(x, w, y)
        return y

    @staticmethod
    def backward(ctx, g):  # noqa: ANN001, ANN205
        x, w, y = ctx.saved_tensors
        local = 1 - y * y
        return g * local * w, (g * local * x).sum(dim=0)


class WrongScaledTanh(ScaledTanh):
    @staticmethod
    def backward(ctx, g):  # noqa: ANN001, ANN205
        x, w, y = ctx.saved_tensors
        local = 1 - torch.tanh(x) ** 2  # the bug: tanh' taken at x, not at x * w
        return g * local * w, (g * local * x).sum(dim=0)


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert cgt.gradcheck(ScaledTanh.apply, (x, w))
    print("ScaledTanh: backward agrees with numeric, symbolic and finite differences")
    try:
        cgt.gradcheck(WrongScaledTanh.apply, (x, w))
    except cgt.GradcheckError as err:
        print(f"WrongScaledTanh:\n{str(err)[:1500]}")
    else:
        raise AssertionError("the wrong backward was not caught")
    # float32 works too, judged with crossgrad's float32 tolerance (torch's own gradcheck fails here)
    assert cgt.gradcheck(ScaledTanh.apply, (x.float().detach().requires_grad_(), w.float().detach().requires_grad_()))
    print("float32: agrees")


if __name__ == "__main__":
    main()
