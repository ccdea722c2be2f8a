"""The everyday ops under crossgrad.check: every witness agrees on a loss through them (the
decompositions are chains of catalogue ops; the new catalogue ops have their own rules)."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest


def _t(*shape, seed=0, dtype=np.float64):
    return crossgrad.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def _agree(loss):
    report = crossgrad.check(loss)
    assert report.verdict == "agree", str(report)
    return report


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("eq", "shapes"), [("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
                                            ("ii,i...->...", [(3, 3), (3, 2)]), ("ij,jk,k->i", [(2, 3), (3, 4), (4,)])])
def test_einsum_agrees(eq, shapes, dtype):
    xs = [_t(*s, seed=k, dtype=dtype) for k, s in enumerate(shapes)]
    y = crossgrad.einsum(eq, *xs)
    _agree((y * y).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multihead_attention_agrees_with_masks(dtype):
    crossgrad.manual_seed(0)
    cg_dtype = crossgrad.float32 if dtype == np.float32 else crossgrad.float64
    m = crossgrad.nn.MultiheadAttention(8, 2, batch_first=True, dtype=cg_dtype)
    x = _t(2, 3, 8, seed=1, dtype=dtype)
    causal = crossgrad.tensor(np.triu(np.ones((3, 3), bool), 1))
    padding = crossgrad.tensor(np.array([[False, False, True], [False, False, False]]))
    out, weights = m(x, x, x, attn_mask=causal, key_padding_mask=padding)
    report = _agree((out * out).sum() + weights.sum())
    assert len(report.leaves) == 5  # the input and the four parameters


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_addmm_family_agrees(dtype):
    b, m1, m2 = _t(3, 4, seed=1, dtype=dtype), _t(2, 3, 2, seed=2, dtype=dtype), _t(2, 2, 4, seed=3, dtype=dtype)
    y = (crossgrad.addmm(b, m1[0], m2[1], beta=0.5, alpha=2.0) + crossgrad.baddbmm(b, m1, m2, alpha=-1.0)
         + crossgrad.addbmm(b, m1, m2) + crossgrad.addmv(b[:, 0], m1[1], m2[0, :, 1], beta=0)[:, None])
    assert y.grad_fn.name() == "AddBackward0"
    _agree((y * y).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeat_interleave_and_tensor_split_agree(dtype):
    x = _t(2, 5, seed=4, dtype=dtype)
    a, b, c = x.tensor_split([1, 3], dim=1)
    y = a.repeat_interleave(2, dim=1) * b + c.repeat_interleave(crossgrad.tensor([2, 0]), dim=1).sin()
    assert y.shape == (2, 2)
    _agree((y * y).sum())


def test_forward_hook_output_is_checked_like_any_other():
    crossgrad.manual_seed(0)
    net = crossgrad.nn.Sequential(crossgrad.nn.Linear(3, 4), crossgrad.nn.Tanh(), crossgrad.nn.Linear(4, 1))
    seen = []
    handle = net[1].register_forward_hook(lambda m, args, out: seen.append(out) or out * 2)
    x = _t(5, 3, dtype=np.float32)
    loss = net(x).sum()
    handle.remove()
    assert len(seen) == 1 and net(x).sum().item() != loss.item()
    _agree(loss)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_agrees(norm_first):
    crossgrad.manual_seed(0)
    layer = crossgrad.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True,
                                                 norm_first=norm_first, dtype=crossgrad.float64)
    causal = crossgrad.tensor(np.triu(np.ones((4, 4), bool), 1))
    y = layer(_t(2, 4, 8, seed=3), src_mask=causal)
    report = _agree((y * y).sum())
    assert len(report.leaves) == 13  # the input and 12 parameters
