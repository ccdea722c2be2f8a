"""Everyday PyTorch lines the bridge maps since issue 13's third round: dtype conversions,
advanced indexing (``logits[torch.arange(n), y]``, ``x[mask]``), element-selecting reads
(masked_select, diagonal, trace, unfold, take, topk/sort values), cosine similarity, group norm,
circular padding, nearest-exact / bicubic interpolation and grouped-query attention. Each: crossgrad's forward and
gradient equal PyTorch's, gradcheck passes, and a planted backward bug is caught by name."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

import torch.nn.functional as F  # noqa: E402
from crossgrad.engine.check import CheckRequest, check  # noqa: E402
from crossgrad.engine.graph import OpNode  # noqa: E402
from crossgrad.torch import GradcheckError, from_torch, gradcheck  # noqa: E402

D = torch.float64
Y = torch.tensor([0, 2, 2, 4])
ROWS = torch.tensor([True, False, True, True])


def _mixed_mlp(x, w1, w2):
    """float64 in, a float32 middle (x.float()), float64 out: a mixed-precision line."""
    h = torch.tanh(x.float() @ w1.float())
    return (h.double() @ w2).type_as(x).sum(1)


CASES = {  # name -> (function, input shapes (float64 unless given), catalogue ops the capture must hold)
    "float, double, to(dtype), to(other), type_as": (
        lambda x, z: (x.float() * 2).double() + x.to(torch.float32).to(z) + z.type_as(x).exp(),
        [(4, 3), ((4, 3), torch.float32)], {"to_dtype"}),
    "a mixed-precision MLP": (_mixed_mlp, [(4, 5), (5, 3), (3, 2)], {"to_dtype", "matmul", "tanh"}),
    "logits[arange(n), y] (a repeated class)": (lambda x: x[torch.arange(4), Y] * 3, [(4, 5)], {"index"}),
    "log_probs[range(n), y].mean()": (lambda x: -x.log_softmax(-1)[range(4), Y].mean(), [(4, 5)],
                                      {"index", "log_softmax"}),
    "repeated pairs accumulate": (lambda x: x[[0, 0, 1, 0], [2, 2, 3, 2]], [(4, 5)], {"index"}),
    "x[x > 0] and x[row mask]": (lambda x: x[x > 0].sum() + x[ROWS].exp(), [(4, 5)], {"index"}),
    "x[:, cols] and x[..., idx]": (lambda x: x[:, [1, 3, 1]].sum(-1) * x[..., Y[:3]].sum(1), [(2, 4, 5)], {"index"}),
    "masked_select, take, diagonal, trace, unfold": (
        lambda x: x.masked_select(ROWS[:, None]).sum() * x.diagonal(1) + torch.take(x, torch.tensor([0, 7, 7, 19]))
        + torch.trace(x) + x.unfold(1, 2, 2).sum((0, 2))[:1], [(4, 5)], {"index"}),
    "topk, sort, kthvalue, median values (and indices as data)": (
        lambda x: x.topk(2, dim=1).values.sum(1) + x.sort(1, descending=True).values[:, 1]
        * x.sort(0).indices[:, 0].double() + x.kthvalue(2, 1).values + x.median(1).values, [(4, 5)], {"index"}),
    "F.cosine_similarity, broadcast": (
        lambda a, c: F.cosine_similarity(a, c, dim=-1) + F.cosine_similarity(a, a.flip(0)), [(4, 5), (5,)],
        {"norm", "clamp"}),
    "F.embedding with padding_idx (every witness runs)": (lambda w: F.embedding(Y, w, padding_idx=2) * 2, [(5, 3)],
                                                          {"embedding"}),
    "F.group_norm with affine": (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3, 3), (4,), (4,)],
                                 {"batch_norm"}),
    "F.instance_norm": (lambda x: F.instance_norm(x), [(2, 3, 4, 4)], {"batch_norm"}),
    "F.pad circular": (lambda x: F.pad(x, (1, 2, 2, 1), mode="circular") * 2, [(2, 3, 4, 5)], {"cat", "slice"}),
    "interpolate nearest-exact": (lambda x: F.interpolate(x, size=(5, 7), mode="nearest-exact"), [(2, 3, 4, 3)],
                                  {"index"}),
    "interpolate bicubic": (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=True),
                            [(1, 2, 3, 4)], {"index"}),
    "sdpa with enable_gqa": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
                             [(1, 4, 3, 8), (1, 2, 3, 8), (1, 2, 3, 8)], {"index_select", "softmax"}),
}


def _inputs(shapes: list) -> list:
    gen = torch.Generator().manual_seed(3)
    return [torch.randn(*(s[0] if isinstance(s[1], torch.dtype) else s), generator=gen,
                        dtype=s[1] if isinstance(s[1], torch.dtype) else D).requires_grad_()
            if s and isinstance(s[0], tuple) else torch.randn(*s, generator=gen, dtype=D).requires_grad_()
            for s in shapes]


@pytest.mark.parametrize("name", CASES)
def test_forward_and_gradient_equal_pytorchs(name: str) -> None:
    fn, shapes, needed = CASES[name]
    inputs = _inputs(shapes)
    out = fn(*inputs)
    cot = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=D).to(out.dtype)
    grads = torch.autograd.grad(out, inputs, cot)
    request = from_torch(fn, inputs, seed=cot)
    assert needed <= {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    report = check(CheckRequest(request.graph, request.seed, witnesses=("numeric",)))
    tol = 1e-6 if "to_dtype" in needed else 1e-12  # float32 arithmetic: numpy's and torch's roundings differ
    np.testing.assert_allclose(report.output, out.detach().numpy(), rtol=tol, atol=tol)
    for leaf, g in zip(report.leaves, grads):
        np.testing.assert_allclose(leaf.grads["numeric"], g.double().numpy(), rtol=tol, atol=tol, err_msg=leaf.name)
    assert gradcheck(fn, inputs)


class _Pick(torch.autograd.Function):
    """out[k] = x[rows[k], cols[k]]: a hand-written pick (NLL-style); backward ``planted`` may be wrong."""

    planted = ""

    @staticmethod
    def forward(ctx, x, rows, cols):
        ctx.save_for_backward(rows, cols)
        ctx.shape = x.shape
        return x[rows, cols]

    @staticmethod
    def backward(ctx, g):
        rows, cols = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=g.dtype)
        if _Pick.planted == "overwrite":  # repeated pairs overwrite instead of adding up
            grad[rows, cols] = g
        else:
            grad.index_put_((rows, cols), g, accumulate=True)
        if _Pick.planted == "one element":
            grad[2, 0] += 0.5
        return grad, None, None


@pytest.mark.parametrize("planted", ["", "one element", "overwrite"])
def test_a_planted_bug_in_an_indexing_backward_names_the_input_and_element(planted: str) -> None:
    """Rows 0..3 with classes Y (the everyday pick), then a repeated pair (0, 2) for 'overwrite'."""
    _Pick.planted = planted
    x = torch.randn(4, 5, dtype=D, generator=torch.Generator().manual_seed(1), requires_grad=True)
    rows, cols = (torch.tensor([0, 0, 1, 2]), torch.tensor([2, 2, 3, 0])) if planted == "overwrite" \
        else (torch.arange(4), Y)
    try:
        if not planted:
            assert gradcheck(_Pick.apply, (x, rows, cols))
            assert gradcheck(_Pick.apply, (x, torch.tensor([0, 0, 1]), torch.tensor([2, 2, 3])))
            return
        with pytest.raises(GradcheckError) as err:
            gradcheck(_Pick.apply, (x, rows, cols))
    finally:
        _Pick.planted = ""
    where = "[0, 2]" if planted == "overwrite" else "[2, 0]"
    assert "input 'x'" in str(err.value) and where in str(err.value) and "suspect: claimed" in str(err.value)


class _Narrow(torch.autograd.Function):
    """float64 -> float32 tanh -> float64, with a backward that forgets tanh's derivative on
    its float32 side when ``planted``."""

    planted = False

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x.float())
        ctx.save_for_backward(y)
        return y.double()

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        d = g.float() if _Narrow.planted else g.float() * (1 - y * y)
        return d.double()


def test_a_mixed_precision_function_passes_and_its_planted_bug_fails() -> None:
    x = torch.randn(3, 4, dtype=D, generator=torch.Generator().manual_seed(2), requires_grad=True)
    assert gradcheck(_Narrow.apply, (x,))  # judged at float32 precision: no false failure
    _Narrow.planted = True
    try:
        with pytest.raises(GradcheckError, match=r"input 'x' \[3, 4\] float64: \d+ of \d+"):
            gradcheck(_Narrow.apply, (x,))
    finally:
        _Narrow.planted = False
