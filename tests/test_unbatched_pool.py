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


@pytest.mark.parametrize(("dtype", "tier"), [("float64", "exact"), ("float32", "tensor")])
def test_unbatched_pooling_checks_agree_on_every_witness(dtype, tier):
    crossgrad.manual_seed(0)
    x = crossgrad.randn(2, 5, 4, dtype=getattr(crossgrad, dtype), requires_grad=True)
    w = crossgrad.randn(2, 3, 2, dtype=getattr(crossgrad, dtype))
    y = F.max_pool2d(x, 3, 2, 1)
    loss = ((y * w).sum() + (F.avg_pool2d(x, 2) ** 2).sum() + F.adaptive_avg_pool2d(x, (2, 4)).sum()
            + (F.adaptive_max_pool2d(x, 3) * 0.5).sum())
    report = crossgrad.check(loss, tier=tier)
    assert report.verdict == "agree" and report.tier == tier and not report.failures
    assert set(report.leaves[0].grads) == {"numeric", "symbolic", "finite_difference"}


@pytest.mark.parametrize("shape", [(6, 7), (1, 2, 3, 6, 7)])
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_other_ranks_are_a_typed_error_naming_the_op(op, shape):
    call = {"max_pool2d": lambda x: F.max_pool2d(x, 2), "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
            "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, 2),
            "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, 2)}[op]
    with pytest.raises(ShapeError, match=rf"{op}: non-empty 3D .* or 4D \(batch mode\) tensor expected") as err:
        call(crossgrad.zeros(*shape))
    assert str(list(shape)) in str(err.value)


OTHER = [
    ("conv1d (C, L)", (3, 9), lambda F, x, w: F.conv1d(x, w[0], w[1], 2, 1)),
    ("conv1d same", (3, 8), lambda F, x, w: F.conv1d(x, w[0], None, padding="same", dilation=2)),
    ("Conv1d module weights", (3, 9), lambda F, x, w: F.conv1d(x, w[0], w[1], groups=1)),
    ("conv_transpose1d (C, L)", (4, 6), lambda F, x, w: F.conv_transpose1d(x, w[0], w[2], 2)),
    ("pad reflect (C, W)", (3, 6), lambda F, x, w: F.pad(x, (2, 3), mode="reflect")),
    ("pad replicate (C, W)", (3, 6), lambda F, x, w: F.pad(x, (0, 2), mode="replicate")),
    ("pad reflect (C, H, W)", (2, 4, 5), lambda F, x, w: F.pad(x, (1, 2, 3, 1), mode="reflect")),
    ("pad replicate (C, H, W)", (2, 4, 5), lambda F, x, w: F.pad(x, (2, 0, 1, 1), mode="replicate")),
    ("pad reflect (N, C, W)", (2, 3, 5), lambda F, x, w: F.pad(x, (1, 1), mode="reflect")),
    ("interpolate nearest (N, C, L) size", (2, 3, 5), lambda F, x, w: F.interpolate(x, size=8)),
    ("interpolate nearest (N, C, L) scale", (2, 3, 5), lambda F, x, w: F.interpolate(x, scale_factor=2.5)),
    ("interpolate linear (N, C, L)", (2, 3, 5), lambda F, x, w: F.interpolate(x, size=9, mode="linear")),
    ("interpolate linear corners", (1, 2, 4), lambda F, x, w: F.interpolate(x, scale_factor=1.75, mode="linear",
                                                                           align_corners=True)),
]


def _run_w(lib, call, x, weights, c):
    t = lib.tensor(x, requires_grad=True)
    ws = [lib.tensor(w, requires_grad=True) for w in weights]
    out = call(lib.nn.functional, t, ws)
    (out * lib.tensor(c)).sum().backward()
    return out, [t.grad] + [w.grad for w in ws]


@pytest.mark.parametrize("name", [c[0] for c in OTHER])
def test_unbatched_conv1d_and_pad_match_torch(name):
    """torch runs these as one sample (conv1d: unsqueeze, conv, squeeze: grad_fn SqueezeBackward1)."""
    torch = pytest.importorskip("torch")
    shape, call = {c[0]: c[1:] for c in OTHER}[name]
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    weights = [rng.standard_normal((4, 3, 3)), rng.standard_normal(4), rng.standard_normal(3)]
    want, _ = _run_w(torch, call, x, weights, np.zeros(1))
    c = rng.standard_normal(tuple(want.shape))
    want, want_grads = _run_w(torch, call, x, weights, c)
    got, got_grads = _run_w(crossgrad, call, x, weights, c)
    assert tuple(got.shape) == tuple(want.shape)
    assert got.grad_fn.name() == want.grad_fn.name()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-13)
    for g, w in zip(got_grads, want_grads):
        assert (g is None) == (w is None)
        if g is not None:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-13)


def test_unbatched_conv1d_check_agrees_and_nn_conv1d_takes_it():
    crossgrad.manual_seed(0)
    conv = crossgrad.nn.Conv1d(3, 4, 3, padding=1).double()
    x = crossgrad.randn(3, 10, dtype=crossgrad.float64, requires_grad=True)
    y = conv(x)
    assert tuple(y.shape) == (4, 10) and y.grad_fn.name() == "SqueezeBackward1"
    report = crossgrad.check((y.tanh() * crossgrad.randn(4, 10, dtype=crossgrad.float64)).sum(), tier="tensor")
    assert report.verdict == "agree"


REFUSED = [((3, 7), (1, 2, 1, 1), "reflect"), ((2, 3, 6, 7), (1, 2), "reflect"), ((7,), (1, 2), "replicate"),
           ((1, 2, 3, 4, 5, 6), (1,) * 6, "reflect")]


@pytest.mark.parametrize(("shape", "pad", "mode"), REFUSED)
def test_pad_ranks_torch_refuses_are_a_typed_error(shape, pad, mode):
    with pytest.raises(ShapeError, match=rf"pad: Padding size {len(pad)} is not supported for {len(shape)}D input"):
        F.pad(crossgrad.zeros(*shape), pad, mode=mode)


@pytest.mark.parametrize("shape", [(7,), (2, 3, 7, 1)])
def test_conv1d_other_ranks_are_torchs_typed_error(shape):
    with pytest.raises(ShapeError, match=r"conv1d: Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"):
        F.conv1d(crossgrad.zeros(*shape), crossgrad.zeros(4, 3, 2))


def test_one_d_upsampling_checks_agree_and_modes_follow_torchs_ranks():
    crossgrad.manual_seed(1)
    x = crossgrad.randn(2, 3, 5, dtype=crossgrad.float64, requires_grad=True)
    up = crossgrad.nn.Upsample(scale_factor=2, mode="linear")(x)
    assert tuple(up.shape) == (2, 3, 10) and up.grad_fn.name() == "UpsampleLinear1DBackward0"
    near = F.interpolate(x, size=7)
    assert near.grad_fn.name() == "UpsampleNearest1DBackward0"
    c = crossgrad.randn(2, 3, 10, dtype=crossgrad.float64)
    for tier in ("exact", "tensor"):
        assert crossgrad.check((up * c).sum() + (near ** 2).sum(), tier=tier).verdict == "agree"
    with pytest.raises(ShapeError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(x, scale_factor=2, mode="bilinear")
    with pytest.raises(ShapeError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(crossgrad.zeros(1, 1, 2, 2), scale_factor=2, mode="linear")
    with pytest.raises(ShapeError, match="interpolate: expected a 3-D"):
        F.interpolate(crossgrad.zeros(2, 2), size=3)


@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (3, 7, 5)])
def test_adaptive_max_pool_indices_match_torch(shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal(shape)
    x.reshape(-1)[1::4] = x.reshape(-1)[::4][: len(x.reshape(-1)[1::4])]  # ties: the first maximum wins
    values, indices = F.adaptive_max_pool2d(crossgrad.tensor(x), (3, 2), return_indices=True)
    want_v, want_i = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), (3, 2), return_indices=True)
    assert indices.dtype == crossgrad.int64
    np.testing.assert_array_equal(indices.numpy(), want_i.numpy())
    np.testing.assert_array_equal(values.numpy(), want_v.numpy())


def test_instance_norm_without_spatial_elements_is_torchs_error():
    with pytest.raises(ShapeError, match=r"instance_norm: Expected more than 1 spatial element when training, "
                                         r"got input size \[5, 3\]"):
        F.instance_norm(crossgrad.zeros(5, 3))
