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
