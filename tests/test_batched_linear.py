"""The batched linear of finite differences (engine/numeric/batched.py): the rule's own folded
product for every combination of moved input, weight and bias, against the rule copy by copy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.rules import RULES


@pytest.mark.parametrize("x_shape", [(5,), (3, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_every_moved_combination_is_each_copys_forward(x_shape, bias):
    rng = np.random.default_rng(len(x_shape) + 3 * bias)
    fwd, copies = RULES["linear"].forward, 3
    base = [rng.standard_normal(x_shape), rng.standard_normal((4, 5)), rng.standard_normal(4) if bias else None]
    shapes = [x_shape, (4, 5), (4,) if bias else None]
    out = x_shape[:-1] + (4,)
    for flags in itertools.product([False, True], repeat=3 if bias else 2):
        if not any(flags):
            continue
        flags = list(flags) + [False] * (3 - len(flags))
        xs = tuple(None if v is None else rng.standard_normal((copies,) + v.shape) if f else v
                   for v, f in zip(base, flags))
        got = batched._linear(fwd, xs, flags, {}, shapes, out)
        assert got.shape == (copies,) + out
        for k in range(copies):
            want = fwd(tuple(None if v is None else v[k] if f else v for v, f in zip(xs, flags)), {})[0]
            np.testing.assert_allclose(got[k], want, rtol=1e-14, atol=1e-14)
