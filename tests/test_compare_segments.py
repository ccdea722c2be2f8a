"""compare_leaves over many leaves at once: each leaf's figures are those of the leaf alone
(the worst and largest elements found for all leaves of one size in one numpy call)."""

from __future__ import annotations

import dataclasses

import numpy as np
from crossgrad.engine.compare import compare_leaves
from crossgrad.engine.tolerance import policy

PAIRS = [("numeric", "symbolic"), ("numeric", "finite_difference")]


def test_each_leaf_s_figures_are_its_own_alone():
    """Sizes mixed and repeated, an empty leaf, ties (the first largest wins), non-finite values."""
    rng = np.random.default_rng(3)
    shapes = [(2, 3), (4,), (), (0,), (2, 3), (4,), (3, 1), (4,)]
    sizes = [int(np.prod(s)) for s in shapes]
    a = rng.standard_normal((2, sum(sizes)))
    b = a + rng.standard_normal(a.shape) * 1e-6
    a[0, 6:9], b[0, 6:9] = 1.0, 1.001  # a tie of three equal differences in the second leaf
    b[1, 12] = a[1, 12] + 5.0  # a mismatch in the fifth
    a[0, 2], b[1, 14] = np.nan, np.inf
    tols = [policy("float64", p, None) for p in PAIRS]
    together = compare_leaves(PAIRS, a, b, shapes, "float64", tols)
    start = 0
    for leaf, (shape, size) in enumerate(zip(shapes, sizes)):
        alone = compare_leaves(PAIRS, a[:, start:start + size], b[:, start:start + size], [shape], "float64", tols)
        for r in range(len(PAIRS)):
            assert dataclasses.astuple(together[r][leaf]) == dataclasses.astuple(alone[r][0]), (leaf, r)
        start += size
    assert together[0][1].max_abs_index == (0,) and together[1][4].mismatched == 1
    assert together[1][4].worst_index == (0, 1) and together[0][0].non_finite == 1
