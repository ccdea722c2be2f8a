"""ATen ops the bridge maps as chains of catalogue ops (engine/facade/torch/aten_chains.py), and
cumprod (a catalogue op, exact at zeros): cdist p=1 and p=2 (both of torch's compute paths, and a
zero distance), and out-of-place index_put (index_add, index_fill, index_copy, a masked write into
a copy). Each: crossgrad's forward and gradient equal PyTorch's, gradcheck passes, a planted
backward bug in a custom Function is caught by input and element, and what cannot be mapped is
refused by name."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

from crossgrad.engine.check import CheckRequest, check  # noqa: E402
from crossgrad.engine.graph import OpNode  # noqa: E402
from crossgrad.torch import GradcheckError, UnsupportedOpError, from_torch, gradcheck  # noqa: E402

D = torch.float64
ZEROS = [[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 1.0], [2.0, -0.5, 1.2, 0.0]]  # lone, repeated and last zeros
IDX = torch.tensor([0, 2, 0, 1, 1])
MASK = torch.tensor([[True, False, True, False]] * 3)

CASES = {  # name -> (function, inputs: shapes or fixed values, catalogue ops the capture must hold)
    # cumprod is a catalogue op (aten_opsb.py maps it)
    "cumprod along dim 1 and dim -2": (lambda x: x.cumprod(1) + torch.cumprod(x, -2), [(3, 4)], {"cumprod"}),
    "cumprod through zeros": (lambda x: torch.cumprod(x, 1) * 2, [ZEROS], {"cumprod"}),
    "cumprod of a 3-D input, dtype given": (lambda x: torch.cumprod(x, 1, dtype=D), [(2, 3, 2)], {"cumprod"}),
    "cdist p=2": (lambda x, y: torch.cdist(x, y), [(3, 4), (5, 4)], {"norm", "sub"}),
    "cdist p=1": (lambda x, y: torch.cdist(x, y, p=1), [(3, 4), (5, 4)], {"norm", "sub"}),
    "cdist p=2, batched, torch's matmul path (> 25 rows)": (lambda x, y: torch.cdist(x, y), [(2, 30, 3), (2, 27, 3)],
                                                            {"norm"}),
    "cdist p=1 at zero distance": (
        lambda x, y: torch.cdist(x, y[:3] * 0 + x.detach(), p=1).sum(1, True) + torch.cdist(x, y, p=1),
        [(3, 4), (5, 4)], {"norm"}),
    "cdist p=2 at zero distance (gradient 0, as PyTorch's)": (
        lambda x, y: torch.cdist(x, y[:3] * 0 + x.detach()).sum(1, True) + torch.cdist(x, y), [(3, 4), (5, 4)],
        {"norm"}),
    "index_add, repeated rows": (lambda x, y: x.index_add(0, IDX, y), [(3, 4), (5, 4)], {"scatter_add"}),
    "index_add along dim 1 with alpha": (lambda x, y: x.index_add(1, torch.tensor([3, 1, 3]), y[:3, :3].T, alpha=2.0),
                                         [(3, 4), (5, 4)], {"scatter_add"}),
    "index_fill": (lambda x: x.index_fill(1, torch.tensor([0, 2]), 0.5) * x, [(3, 4)], {"masked_fill", "scatter_add"}),
    "index_copy": (lambda x, y: x.index_copy(0, torch.tensor([0, 2, 1]), y[:3]) * x, [(3, 4), (5, 4)],
                   {"masked_fill", "scatter_add"}),
    "index_put with a mask, and accumulating repeated pairs": (
        lambda x, y: x.index_put((MASK,), y[:2, :3].reshape(-1)) + x.index_put(
            (torch.tensor([0, 0, 2]), torch.tensor([1, 1, 3])), y[0, :3], accumulate=True), [(3, 4), (5, 4)],
        {"scatter_add"}),
}


def _mask_write(x):
    z = x * 2
    z[z > 0] = 1.0  # an in-place write into an intermediate: index_put_
    return z * x


def _chained_writes(x, y):
    z = x * 1.5
    z.add_(y[:3]).index_fill_(1, torch.tensor([0, 2]), 0.5)  # decomposed: index_put + copy_
    z.index_add_(0, IDX, y)
    z.masked_fill_(z > 2, 0.25)
    return z * x


CASES.update({
    "z[mask] = v in place": (_mask_write, [(3, 4)], {"scatter_add", "masked_fill"}),
    "add_, index_fill_, index_add_, masked_fill_ in place, chained": (_chained_writes, [(3, 4), (5, 4)],
                                                                     {"scatter_add", "masked_fill"}),
})


def _inputs(specs: list) -> list:
    gen = torch.Generator().manual_seed(3)
    return [(torch.randn(*s, generator=gen, dtype=D) if isinstance(s, tuple) else torch.tensor(s, dtype=D))
            .requires_grad_() for s in specs]


@pytest.mark.parametrize("name", CASES)
def test_forward_and_gradient_equal_pytorchs(name: str) -> None:
    fn, specs, needed = CASES[name]
    inputs = _inputs(specs)
    out = fn(*inputs)
    cot = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=D)
    grads = torch.autograd.grad(out, inputs, cot)
    request = from_torch(fn, inputs, seed=cot)
    assert needed <= {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    report = check(CheckRequest(request.graph, request.seed))
    assert report.verdict in ("agree", "convention"), str(report)
    tol = 1e-13 if "matmul path" not in name else 1e-12  # torch's |x|^2 + |y|^2 - 2 x.y rounds otherwise
    np.testing.assert_allclose(report.output, out.detach().numpy(), rtol=tol, atol=tol)
    for leaf, g in zip(report.leaves, grads):
        for witness in ("numeric", "symbolic"):
            np.testing.assert_allclose(leaf.grads[witness], g.numpy(), rtol=tol, atol=tol, err_msg=leaf.name)
    assert gradcheck(fn, inputs)


def test_cumprods_gradient_at_zeros_is_the_product_of_the_others() -> None:
    """d cumprod(x)[i] / d x[j] for j <= i is the product of x[k], k <= i, k != j: nonzero at a lone zero."""
    x = torch.tensor([[2.0, 0.0, 3.0, 5.0]], dtype=D, requires_grad=True)
    request = from_torch(lambda x: torch.cumprod(x, 1), [x], seed=torch.tensor([[0.0, 0.0, 1.0, 0.0]], dtype=D))
    report = check(request)
    np.testing.assert_array_equal(report.leaves[0].grads["symbolic"], [[0.0, 6.0, 0.0, 0.0]])
    np.testing.assert_array_equal(report.leaves[0].grads["numeric"], [[0.0, 6.0, 0.0, 0.0]])


class _CumProd(torch.autograd.Function):
    """cumprod along dim 1 with the textbook backward reverse_cumsum(g * out) / x, which divides by
    zero at x = 0 (``planted`` "zeros"), or the right one with one element off ("one element")."""

    planted = ""

    @staticmethod
    def forward(ctx, x):
        out = torch.cumprod(x, 1)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if _CumProd.planted == "zeros":
            return (g * out).flip(1).cumsum(1).flip(1) / x
        grad = torch.zeros_like(x)
        for j in range(x.shape[1]):
            others = torch.cat([x[:, :j], torch.ones_like(x[:, j:j + 1]), x[:, j + 1:]], 1).cumprod(1)
            grad[:, j] = (g[:, j:] * others[:, j:]).sum(1)
        if _CumProd.planted == "one element":
            grad[1, 2] += 1e-3
        return grad


class _IndexAdd(torch.autograd.Function):
    """x.index_add(0, index, y); ``planted``: y's gradient of a repeated index taken once."""

    planted = False

    @staticmethod
    def forward(ctx, x, y, index):
        ctx.save_for_backward(index)
        return x.index_add(0, index, y)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gy = g.index_select(0, index)
        if _IndexAdd.planted:
            gy[2] = 0.0  # row 2 repeats index 0: "already counted"
        return g, gy, None


class _Cdist(torch.autograd.Function):
    """cdist p=2 with a backward that forgets to divide by the distance (``planted``)."""

    planted = False

    @staticmethod
    def forward(ctx, x, y):
        out = torch.cdist(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved_tensors
        diff = x[:, None, :] - y[None, :, :]
        ratio = g if _Cdist.planted else g / out
        w = ratio[..., None] * diff
        return w.sum(1), -w.sum(0)


def test_correct_custom_functions_using_the_chains_pass() -> None:
    gen = torch.Generator().manual_seed(5)
    x = torch.tensor(ZEROS, dtype=D, requires_grad=True)
    assert gradcheck(_CumProd.apply, (x,))
    a, b = (torch.randn(*s, generator=gen, dtype=D, requires_grad=True) for s in ((3, 4), (5, 4)))
    assert gradcheck(_IndexAdd.apply, (a, b, IDX))
    assert gradcheck(_Cdist.apply, (a, b))


@pytest.mark.parametrize("planted, where", [("zeros", "worst at [0, 1] along output element [0, 0]: expected 0.0 "
                                                      "(symbolic), claimed nan"), ("one element", "worst at [1, 2]")])
def test_a_planted_cumprod_backward_bug_names_the_input_and_element(planted: str, where: str) -> None:
    x = torch.tensor(ZEROS, dtype=D, requires_grad=True)
    _CumProd.planted = planted
    try:
        with pytest.raises(GradcheckError) as err:
            gradcheck(_CumProd.apply, (x,))
    finally:
        _CumProd.planted = ""
    assert where in str(err.value) and "input 'x' [3, 4] float64" in str(err.value)  # zeros: 0 / 0 at x[0, 1]


def test_a_planted_index_add_and_cdist_backward_bug_names_the_input_and_element() -> None:
    gen = torch.Generator().manual_seed(5)
    a, b = (torch.randn(*s, generator=gen, dtype=D, requires_grad=True) for s in ((3, 4), (5, 4)))
    _IndexAdd.planted = _Cdist.planted = True
    try:
        with pytest.raises(GradcheckError) as err:
            gradcheck(_IndexAdd.apply, (a, b, IDX))
        message = str(err.value)
        assert "input 'y' [5, 4] float64" in message and "worst at [2, " in message and "input 'x'" not in message
        with pytest.raises(GradcheckError, match=r"input 'x' \[3, 4\] float64: \d+ of 180 Jacobian entries off"):
            gradcheck(_Cdist.apply, (a, b))
    finally:
        _IndexAdd.planted = _Cdist.planted = False


def test_what_cannot_be_mapped_is_refused_by_name_and_line() -> None:
    x, y = torch.randn(3, 4, dtype=D, requires_grad=True), torch.randn(5, 4, dtype=D, requires_grad=True)
    with pytest.raises(UnsupportedOpError, match=r"aten\._cdist_forward\.default[\s\S]*p=3"):
        from_torch(lambda x, y: torch.cdist(x, y, p=3), [x, y])
    with pytest.raises(UnsupportedOpError, match=r"aten\.index_put\.default[\s\S]*x\.index_put"):
        from_torch(lambda x, y: x.index_put((torch.tensor([0, 0]),), y[:2]), [x, y])  # which write wins: undefined


def _write_into_a_view(x, y):
    w = x * 3
    w[1:][w[1:] > 1] = 0.0  # w changes too
    return w * x


def _view_then_write(x, y):
    z = x * 3
    row = z[0]  # a view taken before the write sees it
    z[z > 1] = 0.0
    return row * 2


def _row_assignment(x, y):
    z = x * 3
    z[1] = y[0]  # a write into the view z[1]
    return z * 2


@pytest.mark.parametrize("fn", [_write_into_a_view, _view_then_write, _row_assignment])
def test_an_in_place_write_another_tensor_can_see_is_refused_by_name_and_line(fn) -> None:
    x, y = torch.randn(3, 4, dtype=D, requires_grad=True), torch.randn(5, 4, dtype=D, requires_grad=True)
    with pytest.raises(UnsupportedOpError, match=rf"aten\.copy_\.default[\s\S]*line \d+, in {fn.__name__}"):
        from_torch(fn, [x, y])


class _Clip(torch.autograd.Function):
    """out = x with the elements above 1 set to 1 (an in-place masked write in forward);
    ``planted``: the backward forgets that the written elements no longer depend on x."""

    planted = False

    @staticmethod
    def forward(ctx, x):
        z = x.clone()
        z[z > 1] = 1.0
        ctx.save_for_backward(x)
        return z

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clone() if _Clip.planted else g * (x <= 1)


def test_a_planted_bug_behind_an_in_place_write_names_the_input_and_element() -> None:
    x = torch.tensor([[0.5, 1.5, -2.0], [3.0, 0.25, 0.75]], dtype=D, requires_grad=True)
    assert gradcheck(_Clip.apply, (x,))
    _Clip.planted = True
    try:
        with pytest.raises(GradcheckError, match=r"input 'x' \[2, 3\] float64: 2 of 36 Jacobian entries off; "
                                                 r"worst at \[(0, 1|1, 0)\]"):
            gradcheck(_Clip.apply, (x,))
    finally:
        _Clip.planted = False
