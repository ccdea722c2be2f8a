"""The forward kernels sped up for the model benchmarks equal straightforward references:
max pooling by taps (bit for bit, NaN and ties as argmax), convolution by windows x weights and
the stride-1 transposed convolution placed as flat runs (against per-element loops)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from crossgrad.engine.numeric import rules_conv as RC
from crossgrad.engine.numeric import rules_pool as RP

RNG = np.random.default_rng(7)


def _pool_reference(x: np.ndarray, k: tuple, s: tuple, pad: tuple, dil: tuple) -> tuple:
    n, c, h, w = x.shape
    oh, ow = ((size + 2 * pad[d] - dil[d] * (k[d] - 1) - 1) // s[d] + 1 for d, size in enumerate((h, w)))
    y, flat = np.empty((n, c, oh, ow), x.dtype), np.empty((n, c, oh, ow), np.int64)
    for a, b, i, j in itertools.product(range(n), range(c), range(oh), range(ow)):
        spots = [(i * s[0] + p * dil[0] - pad[0], j * s[1] + q * dil[1] - pad[1])
                 for p in range(k[0]) for q in range(k[1])]
        vals = np.array([x[a, b, r, t] if 0 <= r < h and 0 <= t < w else -np.inf for r, t in spots], x.dtype)
        best = int(np.argmax(vals))
        y[a, b, i, j], flat[a, b, i, j] = vals[best], ((a * c + b) * h + spots[best][0]) * w + spots[best][1]
    return y, flat


@pytest.mark.parametrize("k, s, pad, dil", [((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 2), (1, 2), (1, 1), (1, 2)),
                                            ((3, 3), (2, 1), (1, 0), (2, 1))])
def test_max_pool_taps_match_argmax_bit_for_bit(k: tuple, s: tuple, pad: tuple, dil: tuple) -> None:
    x = np.round(RNG.standard_normal((2, 3, 9, 8)) * 2).astype(np.float32)  # many ties
    x.flat[::11] = -0.0
    x.flat[5], x.flat[17], x.flat[30] = np.nan, np.inf, -np.inf
    at = {"kernel_size": k, "stride": s, "padding": pad, "dilation": dil, "ceil_mode": False}
    y, (flat, shape, _) = RP._max_pool((x,), at)
    want_y, want_flat = _pool_reference(x, k, s, pad, dil)
    assert np.array_equal(y.view(np.int32), want_y.view(np.int32))  # the same bits (NaN, -0.0 included)
    assert np.array_equal(flat, want_flat) and flat.dtype == np.int64 and shape == x.shape


def _transpose_reference(x: np.ndarray, w: np.ndarray, at: dict) -> np.ndarray:
    (s0, s1), (d0, d1), (p0, p1), (o0, o1) = at["stride"], at["dilation"], at["padding"], at["output_padding"]
    n, c, h, wd = x.shape
    k0, k1 = w.shape[2:]
    full = ((h - 1) * s0 + d0 * (k0 - 1) + 1 + o0, (wd - 1) * s1 + d1 * (k1 - 1) + 1 + o1)
    y = np.zeros((n, w.shape[1]) + full)
    for i, j, p, q in itertools.product(range(h), range(wd), range(k0), range(k1)):
        y[:, :, i * s0 + p * d0, j * s1 + q * d1] += x[:, :, i, j].astype(np.float64) @ w[:, :, p, q]
    return y[:, :, p0:full[0] - p0, p1:full[1] - p1]


@pytest.mark.parametrize("stride, dil, pad, opad", [((1, 1), (1, 1), (0, 0), (0, 0)), ((1, 1), (2, 3), (1, 2), (1, 2)),
                                                    ((2, 1), (1, 1), (1, 0), (1, 0))])
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_conv_transpose_matches_the_per_element_sum(stride: tuple, dil: tuple, pad: tuple, opad: tuple) -> None:
    x, w = RNG.standard_normal((2, 4, 5, 6)), RNG.standard_normal((4, 3, 3, 2))
    at = {"stride": stride, "padding": pad, "output_padding": opad, "dilation": dil, "groups": 1}
    got = RC.conv_transpose(x, w, None, at)
    np.testing.assert_allclose(got, _transpose_reference(x, w, at), rtol=1e-12, atol=1e-12)
    w[0, 0, 0, 0] = np.inf  # non-finite weights take the per-tap path: no 0 * inf from the padding
    assert np.array_equal(np.isnan(RC.conv_transpose(x, w, None, at)), np.isnan(_transpose_reference(x, w, at)))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_matches_the_per_element_sum(groups: int) -> None:
    x, w, b = RNG.standard_normal((2, 4, 7, 6)), RNG.standard_normal((6, 4 // groups, 3, 2)), RNG.standard_normal(6)
    at = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": groups}
    got = RC.conv(x, w, b, at)
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (0, 0)])
    want = np.zeros(got.shape) + b[:, None, None]
    og, cg = 6 // groups, 4 // groups
    for o, i, j, p, q in itertools.product(range(6), range(got.shape[2]), range(got.shape[3]), range(3), range(2)):
        chans = slice(o // og * cg, o // og * cg + cg)
        want[:, o, i, j] += xp[:, chans, 2 * i + p, j + 2 * q] @ w[o, :, p, q]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
