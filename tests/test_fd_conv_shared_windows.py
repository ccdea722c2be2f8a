"""Finite differences moving a convolution's weight (engine/numeric/batched.py _conv_samples):
the input's windows are copied once and multiplied by every copy's weight, bit for bit the
per-copy forward rule."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.rules import RULES


@pytest.mark.parametrize("nd, groups, bias, chunk", [(2, 1, True, 1 << 18), (2, 2, False, 300), (1, 3, True, 50)])
def test_shared_windows_equal_the_per_copy_rule(nd: int, groups: int, bias: bool, chunk: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batched, "CONV_CHUNK", chunk)  # small: several slices of the samples
    rng = np.random.default_rng(0)
    op, spatial = ("conv2d", (9, 8)) if nd == 2 else ("conv1d", (11,))
    x = rng.standard_normal((5, 6) + spatial).astype(np.float32)  # the data input: unmoved, float32
    w = rng.standard_normal((3, 6, 6 // groups) + (3,) * nd)  # three copies of a moved weight
    b = rng.standard_normal((3, 6)) if bias else None
    at = {"stride": (2,) * nd, "padding": (1,) * nd, "dilation": (1,) * nd, "groups": groups}
    fwd = RULES[op].forward
    out = fwd((x, w[0], None if b is None else b[0]), at)[0].shape
    xs, flags = (x, w) + ((b,) if bias else ()), [False, True] + ([True] if bias else [])
    shapes = [x.shape, w.shape[1:]] + ([b.shape[1:]] if bias else [])
    got = batched._conv_samples(fwd, xs, flags, at, shapes, out)
    for c in range(3):
        want = fwd((x, w[c]) + ((b[c],) if bias else ()), at)[0]
        assert np.array_equal(got[c], want)
    assert not np.array_equal(got[0], got[1])
