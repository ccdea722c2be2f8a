"""compare.agrees: the agree verdict of compare() without the report's figures (the joint
screen asks it of every leaf), on random values near the tolerance's edge, zeros, non-finite
values and every tolerance row."""

from __future__ import annotations

import numpy as np
from crossgrad.engine.compare import AGREE, agrees, compare
from crossgrad.engine.tolerance import EXACT, FINITE_DIFFERENCE, Tolerance


def _pairs(rng):
    shape = tuple(int(n) for n in rng.integers(0, 5, rng.integers(0, 3)))
    a = rng.standard_normal(shape) * 10.0 ** rng.integers(-12, 4)
    kind = rng.integers(6)
    if kind == 0:
        b = a.copy()
    elif kind == 1:  # near the edge: relative differences around the tolerances
        b = a * (1 + rng.choice([1e-9, 1e-8, 1e-5, 1e-4, 2e-4]) * rng.standard_normal(shape))
    elif kind == 2:
        b = a + rng.choice([1e-14, 1e-10, 1e-6]) * rng.standard_normal(shape)
    elif kind == 3:
        b = np.where(rng.random(shape) < 0.3, 0.0, a)
    elif kind == 4:
        b = a.copy()
        if b.size:
            b.flat[rng.integers(b.size)] = rng.choice([np.inf, -np.inf, np.nan])
    else:
        b = rng.standard_normal(shape)
    return a, b


def test_agrees_is_compares_agree_verdict():
    rng = np.random.default_rng(11)
    tols = [*EXACT.values(), *FINITE_DIFFERENCE.values(), Tolerance(1e-3, 0.0, 0.0)]
    seen = set()
    for _ in range(3000):
        a, b = _pairs(rng)
        tol = tols[rng.integers(len(tols))]
        seed_scale = float(rng.choice([1.0, 0.0, 1e-3, 7.5]))
        for x, y in ((a, b), (b, a)):
            want = compare(("numeric", "symbolic"), x, y, "float64", tol, seed_scale=seed_scale).verdict == AGREE
            assert agrees(x, y, tol, seed_scale) == want
            seen.add(want)
    assert seen == {True, False}
