"""Issue 13 conformance: torch.nn modules the probes found refused or misjudged. nn.GRUCell and
nn.LSTMCell (in-place writes into unsafe_chunk pieces), losses whose PyTorch decomposition emits
full_like or prims ops (HingeEmbeddingLoss, CosineEmbeddingLoss), and a decomposition that is
not PyTorch's kernel (torch 2.13's multilabel_margin_loss) refused instead of misjudged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import crossgrad.torch as ct  # noqa: E402
from crossgrad.engine.check import check  # noqa: E402
from crossgrad.torch.decomp_guard import DecompositionMismatchError, check_decompositions  # noqa: E402

D = torch.float64
nn = torch.nn


def _r(*shape: int, dtype: Any = D) -> Any:
    return torch.randn(*shape, dtype=dtype, requires_grad=True)


def _forward_agrees(func: Any, inputs: tuple) -> None:
    """from_torch's request computes PyTorch's forward (the sum of the outputs' elements)."""
    outputs = func(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    ours = check(ct.from_torch(func, inputs, seed=None if len(outputs) > 1 else np.ones(outputs[0].shape))).output
    theirs = sum(float(o.detach().double().sum()) for o in outputs) if len(outputs) > 1 else \
        outputs[0].detach().double().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_gru_cell_and_lstm_cell(dtype: Any) -> None:
    torch.manual_seed(0)
    gru, lstm = nn.GRUCell(3, 4).to(dtype), nn.LSTMCell(3, 4).to(dtype)
    x, h, c = _r(2, 3, dtype=dtype), _r(2, 4, dtype=dtype), _r(2, 4, dtype=dtype)
    assert ct.gradcheck(gru, (x,)) is True and ct.gradcheck(gru, (x, h)) is True
    assert ct.gradcheck(lambda x, h, c: lstm(x, (h, c)), (x, h, c)) is True
    _forward_agrees(gru, (x, h))
    _forward_agrees(lambda x, h, c: lstm(x, (h, c)), (x, h, c))


def test_a_write_into_an_unsafe_chunk_piece_is_refused_when_another_tensor_sees_it() -> None:
    def reads_base(x: Any) -> Any:
        y = x * 1
        a, b = y.unsafe_chunk(2)
        a.mul_(2.0)
        return y * b.sum()  # y shows the write

    with pytest.raises(ct.UnsupportedOpError, match="copy_"):
        ct.gradcheck(reads_base, (_r(4),))

    def private(x: Any) -> Any:
        a, b = (x * 1).unsafe_chunk(2)
        a.mul_(2.0)
        return a * b

    x = _r(4)
    assert ct.gradcheck(private, (x,)) is True
    _forward_agrees(private, (x,))


class HingeWrong(torch.autograd.Function):
    """HingeEmbeddingLoss (mean) whose backward forgets the 1 / n of the mean (a planted bug)."""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return nn.functional.hinge_embedding_loss(x, y)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, y = ctx.saved_tensors
        grad = torch.where(y > 0, torch.ones_like(x), torch.where(1 - x > 0, -torch.ones_like(x), 0 * x))
        return g * grad, None


def test_losses_with_full_like_and_prims_ops() -> None:
    torch.manual_seed(1)
    y = torch.tensor([1.0, -1, 1, -1, 1], dtype=D)
    assert ct.gradcheck(nn.HingeEmbeddingLoss(), (_r(5), y)) is True
    assert ct.gradcheck(nn.CosineEmbeddingLoss(), (_r(3, 4), _r(3, 4), y[:3])) is True
    with pytest.raises(ct.GradcheckError, match=r"input 'x' \[5\] float64: 5 of 5 Jacobian entries off"):
        ct.gradcheck(HingeWrong.apply, (_r(5), y))


def test_a_decomposition_that_is_not_the_kernel_is_refused_not_misjudged() -> None:
    torch.manual_seed(0)
    x = _r(2, 4)
    full = torch.tensor([[3, 0, 1, 2], [1, 2, 3, 0]])
    assert ct.gradcheck(lambda x: nn.functional.multilabel_margin_loss(x, full), (x,)) is True
    stops = torch.tensor([[3, 0, -1, 1], [1, 2, 3, -1]])  # torch's kernel stops at -1; its decomposition not
    assert torch.autograd.gradcheck(lambda x: nn.functional.multilabel_margin_loss(x, stops), (x,))
    with pytest.raises(DecompositionMismatchError, match="multilabel_margin_loss_forward") as caught:
        ct.gradcheck(lambda x: nn.functional.multilabel_margin_loss(x, stops), (x,))
    assert isinstance(caught.value, ct.UnsupportedOpError)


def test_the_guard_compares_forward_values_at_the_outputs_scale() -> None:
    out = [torch.tensor([1.0, -2.0, 1e-12], dtype=D)]
    check_decompositions(("aten.op",), np.array([1.0, -2.0, 3e-12]), out, [], False)  # rounding-sized: kept
    check_decompositions((), np.array([9.0, 9.0, 9.0]), out, [], False)  # no decomposition: nothing to say
    with pytest.raises(DecompositionMismatchError, match="aten.op"):
        check_decompositions(("aten.op",), np.array([1.0, -2.001, 0.0]), out, [], False)
    pair = [torch.tensor([1.0, 2.0], dtype=D), torch.tensor([3.0], dtype=D)]
    directions = [torch.tensor([1.0, 1.0], dtype=D), torch.tensor([2.0], dtype=D)]
    check_decompositions(("aten.op",), np.array(9.0), pair, directions, True)
    with pytest.raises(DecompositionMismatchError):
        check_decompositions(("aten.op",), np.array(9.5), pair, directions, True)
