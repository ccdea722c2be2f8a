"""The per-pair figures against hand-computed values: ULP distance, relative and absolute
differences, the worst element, non-finite pairs left out."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.compare import AGREE, MISMATCH, NON_FINITE, compare, compare_leaves, compare_rows, ulp_distance
from crossgrad.engine.tolerance import Tolerance

TIGHT = Tolerance(1e-8, 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ulp_distance_counts_representable_values(dtype):
    np_type = np.float32 if dtype == "float32" else np.float64
    one = np_type(1.0)
    three_up = np.nextafter(np.nextafter(np.nextafter(one, 2), 2), 2)
    tiny = np.nextafter(np_type(0), 1)
    got = ulp_distance(np.array([one, one, 0.0, -0.0, -tiny], np_type),
                       np.array([one, three_up, -0.0, 0.0, tiny], np_type), dtype)
    assert got.tolist() == [0.0, 3.0, 0.0, 0.0, 2.0]
    big = np.finfo(np_type).max
    span = ulp_distance(np.array([-big], np_type), np.array([big], np_type), dtype)  # > 2^63 for float64
    assert span[0] == 2.0 * float(np.array(big, np_type).view(np.int32 if dtype == "float32" else np.int64))


def test_figures_and_worst_element_by_hand():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 2.5], [3.0, 4.1]])
    result = compare(("numeric", "symbolic"), a, b, "float64", TIGHT)
    assert result.verdict == MISMATCH and result.mismatched == 2 and result.total == 4
    assert result.max_abs == pytest.approx(0.5)
    assert result.max_rel == pytest.approx(0.5 / 2.5)
    assert result.worst_index == (0, 1) and result.worst_values == (2.0, 2.5)


def test_non_finite_pairs_are_counted_and_left_out_of_the_figures():
    a = np.array([np.nan, 1.0, np.inf])
    b = np.array([0.0, 1.0 + 1e-12, np.inf])
    result = compare(("numeric", "symbolic"), a, b, "float64", Tolerance(1e-9, 0.0))
    assert result.verdict == NON_FINITE and result.non_finite == 2 and result.mismatched == 0
    assert result.max_abs == pytest.approx(1e-12, rel=1e-3) and result.worst_index == (1,)
    all_bad = compare(("numeric", "symbolic"), np.array([np.nan]), np.array([1.0]), "float64", TIGHT)
    assert all_bad.verdict == NON_FINITE and all_bad.worst_index is None


def test_empty_leaves_agree():
    result = compare(("numeric", "symbolic"), np.zeros((0, 3)), np.zeros((0, 3)), "float64", TIGHT)
    assert result.verdict == AGREE and result.total == 0


def test_rows_compared_together_keep_their_own_tolerance_scale_and_non_finite_count():
    pairs = [("numeric", "symbolic"), ("numeric", "finite_difference"), ("symbolic", "finite_difference"),
             ("claimed", "symbolic")]
    a = np.array([[1.0, 2.0], [np.nan, 1.0], [1000.0, 0.0], [1.0, 2.0]])
    b = np.array([[1.0, 2.05], [0.0, 1.0], [1000.0, 1e-3], [1.0, 2.05]])
    # each row's atol is scaled by its own largest value: row 0 by 2.05 (0.05 off is a mismatch;
    # scaled by 1000 it would pass), row 2 by 1000 (scaled by 2.05 it would fail); row 3 is row 0
    # under a 10% rtol, so the two only differ if each row gets its own tolerance
    tols = [Tolerance(1e-8, 1e-4), TIGHT, Tolerance(0.0, 1e-5), Tolerance(0.1, 0.0)]
    first, second, third, fourth = compare_rows(pairs, a, b, "float64", tols)
    assert (first.verdict, first.mismatched, first.worst_index) == (MISMATCH, 1, (1,))
    assert first.max_abs == pytest.approx(0.05)
    assert (second.verdict, second.non_finite, second.max_abs, second.worst_index) == (NON_FINITE, 1, 0.0, (1,))
    assert (third.verdict, third.max_abs, third.worst_index) == (AGREE, 1e-3, (1,))
    assert (fourth.verdict, fourth.max_abs) == (AGREE, first.max_abs)
    assert [r.witnesses for r in (first, second, third, fourth)] == pairs
    assert third.tolerance == tols[2] and first.max_ulp > 0 and second.max_ulp == 0


def test_leaves_side_by_side_keep_their_own_scale_shape_and_counts():
    """[pairs, elements] with three leaves' elements side by side (one of them empty): each leaf
    is judged on its own scale, reports its worst element in its own shape, counts its own
    non-finite values."""
    shapes = [(2,), (0,), (2, 2)]
    row0_a, row0_b = [1000.0, 0.0, 1.0, 2.0, 3.0, 4.0], [1000.0, 1e-3, 1.0, 2.0, 3.0, 4.05]
    row1_a, row1_b = [1.0, 1.0, np.nan, 2.0, 3.0, 4.0], [1.0, 1.0, 5.0, 2.0, 3.0, 4.0]
    tol = Tolerance(0.0, 1e-4)  # leaf 0 passes only on its own scale (1000), leaf 2 fails on its own (4.05)
    pairs = [("numeric", "symbolic"), ("numeric", "finite_difference")]
    (big, empty, small), (big1, _, small1) = compare_leaves(
        pairs, np.array([row0_a, row1_a]), np.array([row0_b, row1_b]), shapes, "float64", [tol, tol])
    assert (big.verdict, big.total, big.max_abs, big.worst_index) == (AGREE, 2, 1e-3, (1,))
    assert (empty.verdict, empty.total, empty.worst_index) == (AGREE, 0, None)
    assert (small.verdict, small.mismatched, small.worst_index, small.total) == (MISMATCH, 1, (1, 1), 4)
    assert small.worst_values == (4.0, 4.05) and small.max_abs == pytest.approx(0.05)
    assert (big1.verdict, big1.non_finite) == (AGREE, 0)
    assert (small1.verdict, small1.non_finite, small1.max_abs) == (NON_FINITE, 1, 0.0)
    assert [r.witnesses for r in (big, small, big1, small1)] == [pairs[0], pairs[0], pairs[1], pairs[1]]
