"""``x[:]`` and ``x[...]`` are new views, as in torch: never x itself; x[:] records a slice
(SliceBackward0), x[...] and other all-full indexes an alias (AliasBackward0); writes through the
view reach x; the gradient flows through (crossgrad.check agrees)."""

from __future__ import annotations

import crossgrad as cg
import numpy as np
import pytest

# (index, torch's grad_fn name), recorded from torch 2.13
FORMS = [(slice(None), "SliceBackward0"), (Ellipsis, "AliasBackward0"),
         ((slice(None), slice(None)), "AliasBackward0"), ((Ellipsis, slice(None)), "AliasBackward0"),
         ((slice(None),), "AliasBackward0"), (slice(0, 3), "SliceBackward0"), ((0, slice(None)), "SelectBackward0")]


@pytest.mark.parametrize(("index", "name"), FORMS, ids=[repr(i) for i, _ in FORMS])
def test_a_new_view_with_torchs_grad_fn(index: object, name: str) -> None:
    x = cg.randn(3, 4, requires_grad=True)
    y = x[index]
    assert y is not x and type(y.grad_fn).__name__ == name


def test_zero_dim() -> None:
    x = cg.tensor(3.0, requires_grad=True)
    y = x[...]
    assert y is not x and type(y.grad_fn).__name__ == "AliasBackward0" and float(y) == 3.0
    with pytest.raises(IndexError, match="slice\\(\\) cannot be applied to a 0-dim tensor"):
        x[:]


@pytest.mark.parametrize("index", [slice(None), Ellipsis, (slice(None), slice(None))])
def test_writes_through_the_view_reach_x(index: object) -> None:
    x = cg.zeros(3, 4)
    view = x[index]
    view[1, 2] = 5.0
    assert view is not x and float(x[1, 2]) == 5.0 and float(x.sum()) == 5.0


@pytest.mark.parametrize("index", [slice(None), Ellipsis])
def test_gradients_flow_and_check_agrees(index: object) -> None:
    x = cg.randn(3, 4, requires_grad=True, dtype=cg.float64)
    w = cg.randn(3, 4, dtype=cg.float64)
    loss = (x[index] * w).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy())
    assert cg.check((x[index] * w).sum()).verdict == "agree"


def test_same_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for index, _ in FORMS:
        assert type(cg.randn(3, 4, requires_grad=True)[index].grad_fn).__name__ == \
            torch.randn(3, 4, requires_grad=True)[index].grad_fn.name()
