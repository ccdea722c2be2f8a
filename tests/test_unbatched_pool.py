"""2-D pooling on torch's unbatched (C, H, W) input: shapes, values, indices, grad_fn names and
gradients as real torch gives them (torch oracle), all three witnesses agreeing, and torch's
typed refusal of other ranks."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.errors import ShapeError

F = crossgrad.nn.functional

CALLS = [
    ("max_pool2d", lambda F, x: F.max_pool2d(x, 3, 2, 1)),
    ("max_pool2d ceil dilation", lambda F, x: F.max_pool2d(x, (2, 3), (2, 1), 0, (2, 1), True)),
    ("avg_pool2d", lambda F, x: F.avg_pool2d(x, (3, 2), 2, 1, True, False)),
    ("avg_pool2d divisor", lambda F, x: F.avg_pool2d(x, 2, divisor_override=3)),
    ("adaptive_avg_pool2d", lambda F, x: F.adaptive_avg_pool2d(x, (3, 4))),
    ("adaptive_avg_pool2d 1", lambda F, x: F.adaptive_avg_pool2d(x, 1)),
    ("adaptive_avg_pool2d None", lambda F, x: F.adaptive_avg_pool2d(x, (None, 2))),
    ("adaptive_max_pool2d", lambda F, x: F.adaptive_max_pool2d(x, (2, 3))),
    ("MaxPool2d", lambda F, x: F.__nn__.MaxPool2d(2)(x)),
    ("AvgPool2d", lambda F, x: F.__nn__.AvgPool2d(3, 1, 1)(x)),
    ("AdaptiveAvgPool2d", lambda F, x: F.__nn__.AdaptiveAvgPool2d((2, 2))(x)),
]


class _F:
    """functional plus the nn namespace of one library (torch or crossgrad)."""

    def __init__(self, lib):
        self._f, self.__nn__ = lib.nn.functional, lib.nn

    def __getattr__(self, name):
        return getattr(self._f, name)


def _run(lib, call, x, c):
    t = lib.tensor(x, requires_grad=True)
    out = call(_F(lib), t)
    (out * lib.tensor(c)).sum().backward()
    return out, t.grad


@pytest.mark.parametrize("name", [c[0] for c in CALLS])
def test_unbatched_pooling_matches_torch(name):
    torch = pytest.importorskip("torch")
    call = dict(CALLS)[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 8))
    want, _ = _run(torch, call, x, np.zeros(1))
    c = rng.standard_normal(tuple(want.shape))
    want, want_grad = _run(torch, call, x, c)
    got, got_grad = _run(crossgrad, call, x, c)
    assert tuple(got.shape) == tuple(want.shape) and len(got.shape) == 3
    assert got.grad_fn.name() == want.grad_fn.name()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_grad.numpy(), want_grad.numpy(), rtol=1e-12, atol=1e-14)


def test_unbatched_max_pool_indices_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 6, 5))
    values, indices = F.max_pool2d(crossgrad.tensor(x), 3, 2, 1, return_indices=True)
    want_v, want_i = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), want_i.numpy())
    np.testing.assert_array_equal(values.numpy(), want_v.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unbatched_pooling_checks_agree_on_every_witness(dtype):
    crossgrad.manual_seed(0)
    x = crossgrad.randn(2, 7, 6, dtype=getattr(crossgrad, dtype), requires_grad=True)
    w = crossgrad.randn(2, 4, 3, dtype=getattr(crossgrad, dtype))
    y = F.max_pool2d(x, 3, 2, 1)
    loss = ((y * w).sum() + (F.avg_pool2d(x, 2) ** 2).sum() + F.adaptive_avg_pool2d(x, (2, 4)).sum()
            + (F.adaptive_max_pool2d(x, 3) * 0.5).sum())
    report = crossgrad.check(loss, tier="exact")
    assert report.verdict == "agree" and report.tier == "exact" and not report.failures
    assert set(report.leaves[0].grads) == {"numeric", "symbolic", "finite_difference"}
    tensor = crossgrad.check(loss, tier="tensor")
    assert tensor.verdict == "agree" and tensor.tier == "tensor"


@pytest.mark.parametrize("shape", [(6, 7), (1, 2, 3, 6, 7)])
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_other_ranks_are_a_typed_error_naming_the_op(op, shape):
    call = {"max_pool2d": lambda x: F.max_pool2d(x, 2), "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
            "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, 2),
            "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, 2)}[op]
    with pytest.raises(ShapeError, match=rf"{op}: non-empty 3D .* or 4D \(batch mode\) tensor expected") as err:
        call(crossgrad.zeros(*shape))
    assert str(list(shape)) in str(err.value)
