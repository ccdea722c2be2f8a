"""The ATen mapping table, line by line: each small PyTorch function below goes through a few
table lines (or a decomposition); crossgrad's forward must equal PyTorch's and PyTorch's
gradient must pass crossgrad.torch.gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

import torch.nn.functional as F  # noqa: E402
from crossgrad.engine.check import check  # noqa: E402
from crossgrad.engine.graph import OpNode  # noqa: E402
from crossgrad.torch import from_torch, gradcheck  # noqa: E402

D = torch.float64
T = torch.tensor([0, 2, 1, 2])
Y = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [0.2, 0.9, 0.0], [1.0, 1.0, 0.0]], dtype=D)

CASES = {  # name -> (function, input shapes, catalogue ops the capture must contain)
    "add alpha, rsub, sub scalar": (lambda x, y: torch.add(x, y, alpha=2.5) + (1 - x) - 3, [(4, 3), (3,)],
                                    {"add", "sub"}),
    "mul, div, scalar div": (lambda x, y: (x * y / (y * y + 1) / 2).sum(), [(4, 3), (4, 3)], {"mul", "div"}),
    "pow forms": (lambda x: (x.abs() + 1).pow(1.5) + torch.pow(2.0, x) + x.square() + (x.abs() + 1).rsqrt(),
                  [(4, 3)], {"pow", "pow_tensor"}),
    "reciprocal, exp, log, sqrt": (lambda x: torch.reciprocal(x.exp()) + (x.abs() + 1).log() + (x * x + 1).sqrt(),
                                   [(4, 3)], {"exp", "log", "sqrt", "div"}),
    "tanh, sigmoid, softplus": (lambda x: x.tanh() * torch.sigmoid(x) + F.softplus(x, beta=2.0), [(4, 3)],
                                {"tanh", "sigmoid", "softplus"}),
    "maximum, minimum, clamp": (lambda x, y: torch.maximum(x, y) - torch.minimum(x, y) + x.clamp(min=0.1)
                                + y.clamp(max=0.3), [(4, 3), (4, 3)], {"maximum", "minimum"}),
    "matmul family": (lambda a, b, v: (a @ b).sum() + torch.mm(a, b).mean() + (a @ v).sum() + v.dot(v)
                      + torch.bmm(a[None], b[None]).sum(), [(4, 3), (3, 2), (3,)], {"matmul"}),
    "addmm with beta and alpha": (lambda b, a, w: torch.addmm(b, a, w, beta=0.5, alpha=2.0), [(2,), (4, 3), (3, 2)],
                                  {"matmul", "add", "mul"}),
    "linear, no bias": (lambda x, w: F.linear(x, w).relu(), [(4, 3), (2, 3)], {"linear", "relu"}),
    "sum and mean over dims": (lambda x: x.sum(1, keepdim=True) * x.mean(0) + x.sum() + x.mean((0, 2)).sum(),
                               [(2, 3, 4)], {"sum", "mean"}),
    "views": (lambda x: x.reshape(6, 4).t().unsqueeze(0).squeeze(0).flatten() * 2, [(2, 3, 4)],
              {"reshape", "transpose", "flatten"}),
    "transpose, permute, T": (lambda x: x.transpose(0, 2).permute(1, 0, 2).sum(-1) + x[0].T.sum(1), [(2, 3, 2)],
                              {"transpose", "permute"}),
    "select, slice, expand": (lambda x: x[1] * x[:, 1:3].sum(1, keepdim=True) + x[::2, -1:].expand(2, 4).sum(0)[0],
                              [(4, 4)], {"select", "slice"}),
    "softmax, log_softmax": (lambda x: F.softmax(x, dim=1) * F.log_softmax(x, dim=0), [(4, 3)],
                             {"softmax", "log_softmax"}),
    "layer_norm (decomposed), var": (lambda x, w: F.layer_norm(x, (3,), w) + x.var(0, keepdim=True), [(4, 3), (3,)],
                                     {"mean", "sub", "pow", "div"}),
    "bce with logits, weights": (lambda x: F.binary_cross_entropy_with_logits(
        x, Y, weight=torch.tensor([1.0, 2.0, 0.5], dtype=D), pos_weight=torch.tensor([3.0, 1.0, 2.0], dtype=D),
        reduction="sum"), [(4, 3)], {"binary_cross_entropy_with_logits"}),
    "cross_entropy options": (lambda x: F.cross_entropy(x, T, weight=torch.tensor([1.0, 0.5, 2.0], dtype=D),
                                                        ignore_index=1, label_smoothing=0.1)
                              + F.cross_entropy(x, T, reduction="none").sum(), [(4, 3)], {"cross_entropy"}),
    "mse, detach, dropout in eval": (lambda x, y: F.mse_loss(x, y.detach()) + F.dropout(x, 0.5, training=False).sum()
                                     + F.mse_loss(x, y, reduction="none").sum(), [(4, 3), (4, 3)],
                                     {"mse_loss", "detach"}),
}


@pytest.mark.parametrize("name", CASES)
def test_the_captured_graph_computes_pytorchs_function_and_gradient(name):
    fn, shapes, expected_ops = CASES[name]
    torch.manual_seed(sum(map(ord, name)))
    inputs = [torch.randn(*s, dtype=D, requires_grad=True) for s in shapes]
    request = from_torch(fn, inputs)
    assert expected_ops <= {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    report = check(request)
    np.testing.assert_allclose(report.output, fn(*inputs).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert report.verdict in ("agree", "convention"), str(report)
    assert gradcheck(fn, inputs) is True


def test_training_mode_dropout_is_refused_with_a_reason():
    with pytest.raises(NotImplementedError, match="dropout in training mode"):
        from_torch(lambda x: F.dropout(x, 0.5, training=True).sum(), [torch.randn(3, dtype=D)])
