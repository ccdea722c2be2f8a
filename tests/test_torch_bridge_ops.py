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
from crossgrad.torch import UnsupportedOpError, from_torch, gradcheck  # noqa: E402

D = torch.float64
T = torch.tensor([0, 2, 1, 2])
MASK = torch.tensor([[True, False, True], [True, True, False], [False, True, True]])
Y = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [0.2, 0.9, 0.0], [1.0, 1.0, 0.0]], dtype=D)

CASES = {  # name -> (function, input shapes, catalogue ops the capture must contain)
    "add alpha, rsub, sub scalar": (lambda x, y: torch.add(x, y, alpha=2.5) + (1 - x) - 3, [(4, 3), (3,)],
                                    {"add", "sub"}),
    "mul, div, scalar div": (lambda x, y: (x * y / (y * y + 1) / 2).sum(), [(4, 3), (4, 3)], {"mul", "div"}),
    "pow forms": (lambda x: (x.abs() + 1).pow(1.5) + torch.pow(2.0, x) + x.square() + (x.abs() + 1).rsqrt(),
                  [(4, 3)], {"pow", "pow_tensor"}),
    "reciprocal, exp, log, sqrt": (lambda x: torch.reciprocal(x.exp()) + (x.abs() + 1).log() + (x * x + 1).sqrt(),
                                   [(4, 3)], {"exp", "log", "sqrt", "reciprocal"}),
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
    "split, chunk, unbind": (lambda x: x.split(2, dim=1)[1].sum() * x.chunk(3, dim=-1)[2].sum(0)
                             + (x.unbind(0)[1] * x.unbind(1)[4].sum()).sum() + x.split([1, 3, 1], dim=1)[1].mean(),
                             [(3, 5)], {"slice", "select"}),
    "softmax, log_softmax": (lambda x: F.softmax(x, dim=1) * F.log_softmax(x, dim=0), [(4, 3)],
                             {"softmax", "log_softmax"}),
    "layer_norm, var": (lambda x, w: F.layer_norm(x, (3,), w) + x.var(0, keepdim=True), [(4, 3), (3,)],
                        {"layer_norm", "var"}),
    "sin cos erf log1p expm1 silu": (lambda x: x.sin() * x.cos() + torch.erf(x) + torch.log1p(x.abs()) + x.expm1()
                                     + F.silu(x), [(4, 3)], {"sin", "cos", "erf", "log1p", "expm1", "silu"}),
    "gelu, leaky_relu, elu, selu, hardtanh, clamp": (
        lambda x: F.gelu(x) + F.leaky_relu(x, 0.2) + F.elu(x, 0.5) + F.selu(x) + F.hardtanh(x, -0.5, 0.5)
        + x.clamp(-0.3, 0.4) + x.clamp_min(0.1) * x.clamp_max(0.2), [(4, 3)],
        {"gelu", "leaky_relu", "elu", "hardtanh", "clamp"}),
    "where and masked_fill with a constant mask": (
        lambda x: torch.softmax(x.masked_fill(torch.tril(torch.ones(4, 4)) == 0, float("-inf")), -1)
        + torch.where(torch.eye(4) > 0, x, 0.5), [(4, 4)], {"where", "softmax"}),
    "logsumexp, amax, max, max(dim) values": (
        lambda x: (x.logsumexp(1) * x.amax(0)[:2] + x.max() + x.min(dim=1).values * x.max(dim=0, keepdim=True)
                   .values[0, :2]).sum(), [(2, 3)], {"logsumexp", "amax", "max_all", "min_dim", "max_dim"}),
    "conv1d, conv2d, pools, batch_norm": (
        lambda x, w, v: F.conv1d(x[:, :, 0], v, stride=2).sum() + F.adaptive_avg_pool2d(F.batch_norm(
            F.avg_pool2d(F.conv2d(x, w, padding=1), 2), torch.zeros(2, dtype=D), torch.ones(2, dtype=D)), 1).sum(),
        [(1, 2, 4, 4), (2, 2, 3, 3), (3, 2, 2)],
        {"conv1d", "conv2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm"}),
    "var, std, norm, prod, cumsum": (
        lambda x: x.var(1) + x.std(1, correction=0) + x.norm(dim=1) + torch.linalg.vector_norm(x, 1, dim=1)
        + x.prod(1) + x.cumsum(1)[:, -1], [(4, 3)], {"var", "std", "norm", "prod", "cumsum"}),
    "sdpa: causal, bool mask with scale, float mask": (
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True).sum(1)
        + F.scaled_dot_product_attention(q, k, v, attn_mask=MASK, scale=0.3).sum(1)
        + F.scaled_dot_product_attention(q, k, v, attn_mask=MASK * 0.5 - 1.0).sum(1),
        [(2, 3, 2), (2, 3, 2), (2, 3, 2)], {"softmax", "where", "matmul"}),
    "pad modes, interpolate, same and transposed convolutions": (
        lambda x, w: F.pad(x, (1, 2, 0, 1), value=0.5).sum() + F.pad(x, (1, 1, 1, 0), mode="reflect").pow(2).sum()
        + F.pad(x, (2, 0, 1, 1), mode="replicate").pow(2).sum() + F.interpolate(x, size=(5, 3)).pow(2).sum()
        + F.interpolate(x, scale_factor=1.5, mode="bilinear").pow(2).sum()
        + F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=True).pow(2).sum()
        + F.conv2d(x, w, padding="same").pow(2).sum() + F.conv_transpose2d(x, w, stride=2, output_padding=1)
        .pow(2).sum(), [(1, 2, 3, 4), (2, 2, 2, 3)], {"pad", "interpolate", "conv2d", "conv_transpose2d"}),
    "cat, stack, gather, index_select, comparisons, tril": (
        lambda x: torch.cat([x, x.tril(-1)], 1).pow(2).sum() + torch.stack([x, x.triu()], 2).sum(2).pow(2).sum()
        + (torch.gather(x, 1, x.argsort(1)[:, :2]) * torch.index_select(x, 0, torch.tensor([2, 0, 1]))[:, :2]).sum()
        + ((x > 0.2) * x + (x <= 0).double() * x.pow(2)).sum(), [(3, 3)], {"cat", "stack", "gather", "tril"}),
    "embedding": (lambda e: F.embedding(torch.tensor([[0, 1, 4], [4, 2, 1]]), e).pow(2).sum(), [(5, 3)],
                  {"embedding"}),
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


def check_captured(name: str, case: tuple, verdicts: tuple[str, ...]) -> None:
    """Capture ``case`` (function, input shapes, ops the capture must hold) on seeded float64
    inputs: the capture computes torch's forward, its check verdict is one of ``verdicts``, and
    torch's gradient passes gradcheck."""
    fn, shapes, expected_ops = case
    torch.manual_seed(sum(map(ord, name)))
    inputs = [torch.randn(*s, dtype=D, requires_grad=True) for s in shapes]
    request = from_torch(fn, inputs)
    assert expected_ops <= {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    report = check(request)
    np.testing.assert_allclose(report.output, fn(*inputs).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert report.verdict in verdicts, str(report)
    assert gradcheck(fn, inputs) is True


@pytest.mark.parametrize("name", CASES)
def test_the_captured_graph_computes_pytorchs_function_and_gradient(name):
    check_captured(name, CASES[name], ("agree", "convention"))


def test_training_mode_dropout_records_the_mask_pytorch_draws():
    """Under the same seed the request's mask is PyTorch's: same output, zeros where torch dropped."""
    x = torch.randn(6, 5, dtype=D, requires_grad=True)
    fn = lambda x: F.dropout(x.tanh(), 0.4, training=True) * 3  # noqa: E731
    torch.manual_seed(11)
    request = from_torch(fn, [x])
    torch.manual_seed(11)
    expected = fn(x)
    (mask,) = [n for n in request.graph.nodes if not isinstance(n, OpNode) and n.name.endswith("_mask")]
    assert mask.requires_grad is False and set(np.unique(mask.value)) <= {0.0, 1 / 0.6}
    np.testing.assert_array_equal(mask.value == 0, expected.detach().numpy() == 0)
    report = check(request)
    np.testing.assert_allclose(report.output, expected.detach().numpy(), rtol=1e-12)
    assert report.verdict == "agree", str(report)
    torch.manual_seed(11)
    assert gradcheck(fn, [x]) is True


def test_data_computed_from_inputs_becomes_a_leaf_indices_comparisons_masks():
    """max(dim).indices, comparisons and values derived from them are non-differentiable leaves
    holding the values for these inputs."""
    x = torch.randn(3, 4, dtype=D, requires_grad=True)
    fn = lambda x: (x.max(dim=1).indices.double() * x[:, 0]).sum() + torch.where(x > 0, x, x * 0.1).sum()  # noqa: E731
    request = from_torch(fn, [x])
    leaves = {n.name: n for n in request.graph.nodes if not isinstance(n, OpNode)}
    indices = [n for n in leaves.values() if n.value.dtype == np.int64]
    assert [list(n.value) for n in indices] == [x.max(dim=1).indices.tolist()]
    assert any(n.value.dtype == np.bool_ and (n.value == (x > 0).numpy()).all() for n in leaves.values())
    report = check(request)
    np.testing.assert_allclose(report.output, fn(x).detach().numpy(), rtol=1e-12)
    assert report.verdict == "agree", str(report)
    assert gradcheck(fn, [x]) is True


def test_an_op_outside_the_catalogue_is_refused_by_name():
    with pytest.raises(UnsupportedOpError, match=r"aten\.\w*fft"):
        from_torch(lambda x: torch.fft.rfft(x).abs().sum(), [torch.randn(8, dtype=D)])


def test_clamp_at_its_bound_follows_torch_the_gradient_passes():
    """torch's clamp passes the gradient at a bound (clamp_min(x, 0) at 0 gives 1, relu gives 0)."""
    x = torch.tensor([-1.0, 0.0, 0.5], dtype=D, requires_grad=True)
    assert gradcheck(lambda x: x.clamp_min(0.0).sum(), (x,)) is True
    assert {n.op for n in from_torch(lambda x: x.clamp_min(0.0).sum(), (x,)).graph.nodes
            if isinstance(n, OpNode)} == {"clamp", "sum"}
