"""The small-input fast paths (seed-graph speed) equal the general paths exactly."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import compare
from crossgrad.engine.symbolic import exact
from mpmath.libmp import from_float


def test_few_values_convert_like_mpmath() -> None:
    rng = np.random.default_rng(3)
    tiny, big = 5e-324, np.finfo(np.float64).max
    values = [0.0, -0.0, tiny, -tiny, big, -big, 2.0**-1022, 1.0, -3.0, 2.0**60, 6.0, -2.0**52 * 3, np.nan, np.inf,
              -np.inf, *(rng.standard_normal(8) * 10.0 ** rng.integers(-300, 300, 8)).tolist()]
    for start in range(0, len(values), exact.FEW_VALUES):
        chunk = np.array(values[start:start + exact.FEW_VALUES])
        assert exact._mpfs(chunk) == [from_float(v) for v in chunk.tolist()]
    assert exact._mpfs(np.array(values * 3))[:len(values)] == exact._mpfs(np.array(values))  # both paths


def _naive_argmax(x: np.ndarray, starts: list[int], sizes: list[int]) -> np.ndarray:
    return np.array([[int(np.argmax(row[s:s + n])) if n else 0 for s, n in zip(starts, sizes)] for row in x])


@pytest.mark.parametrize("sizes", [[15, 3], [4, 0, 4, 1], [2] * (compare.FEW_LEAVES + 3), [3, 0, 5] * 4,
                                   [compare.SLICED_LEAF, 2, 0, 3, 2, 2, compare.SLICED_LEAF + 7, 3, 2, 5, 1]])
def test_segment_argmax_few_and_many_leaves(sizes: list[int]) -> None:
    x = np.random.default_rng(len(sizes)).standard_normal((5, sum(sizes))).round(1)  # ties: the first wins
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    np.testing.assert_array_equal(compare._segment_argmax(x, starts, sizes), _naive_argmax(x, starts, sizes))


def test_float32_ulp_distance_matches_the_64_bit_path() -> None:
    """The float32 shortcut (|oa - ob| in int64) against the unsigned 64-bit path, signs and zeros mixed."""
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(4000) * 10.0 ** rng.integers(-40, 38, 4000)).astype(np.float32)
    b = np.concatenate([-a[:1000], a[1000:2000], np.nextafter(a[2000:3000], np.float32(0)), a[3000:] * 3])
    a[:5], b[:5] = [0.0, -0.0, 0.0, np.finfo(np.float32).max, -1.0], [-0.0, 0.0, 1e-45, -np.finfo(np.float32).max, 1.0]
    ordered = compare._ordered_bits(a, "float32"), compare._ordered_bits(b, "float32")
    np.testing.assert_array_equal(compare.ulp_distance(a, b, "float32"), compare._ulps_between(*ordered))
