"""The float64 erf (engine/erf64.py, glibc's algorithm in numpy) against math.erf."""

from __future__ import annotations

import math

import numpy as np
from crossgrad.engine import erf64
from crossgrad.engine.numeric import erf_kernel

EXACT = np.frompyfunc(math.erf, 1, 1)
SPECIAL = [0.0, -0.0, np.inf, -np.inf, 6.0, -6.0, np.nextafter(6.0, 0), 0.84375, 1.25, -1.25,
           np.nextafter(0.84375, 0), np.nextafter(1.25, 0), 2.0 ** -28, np.nextafter(2.0 ** -28, 0),
           erf64._SPLIT, np.nextafter(erf64._SPLIT, 0), 5e-324, -5e-324, 2.0 ** -1015, 1e300, -28.0]


def _points() -> np.ndarray:
    """1.2 million points: every band of the algorithm, both signs, tails, subnormals, specials."""
    rng = np.random.default_rng(0)
    sign = rng.choice([-1.0, 1.0], 200_000)
    return np.concatenate([
        rng.uniform(-7, 7, 500_000), rng.standard_normal(200_000) * 2, rng.uniform(-1.3, 1.3, 100_000),
        sign * np.exp(rng.uniform(-745, 3, 200_000)),  # tiny through subnormal (exp(-745) = 5e-324)
        sign * rng.uniform(2.8, 6.1, 200_000), np.array(SPECIAL)])


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_equals_math_erf_within_one_ulp_everywhere() -> None:
    x = _points()
    got, want = erf64.erf(x), EXACT(x).astype(np.float64)
    assert got.dtype == np.float64 and x.size > 1_000_000
    assert np.all(_ulps(got, want) <= 1)
    equal = got == want
    assert equal.mean() > 0.9995  # (1-ulp differences only where numpy's exp rounds unlike glibc's)
    assert np.all(np.signbit(got) == np.signbit(want))
    assert np.all(equal[np.abs(x) < 1.25])  # no exp below 1.25: bit for bit


def test_special_values_and_shapes() -> None:
    x = np.array([[np.nan, -np.nan, np.inf], [-np.inf, -0.0, 0.0]])
    got = erf64.erf(x)
    assert got.shape == (2, 3) and np.isnan(got[0, :2]).all()
    assert got[0, 2] == 1.0 and got[1, 0] == -1.0 and np.signbit(got[1, 1]) and not np.signbit(got[1, 2])
    assert erf64.erf(np.float64(0.5)).shape == () and erf64.erf(np.float64(0.5)) == math.erf(0.5)
    strided = np.linspace(-3, 3, 41).reshape(41, 1)[::3]
    assert np.array_equal(erf64.erf(strided), EXACT(strided).astype(np.float64))
    assert erf64.erf(np.empty((0, 3))).shape == (0, 3)


def test_erf_kernel_uses_it_for_float64() -> None:
    x = np.random.default_rng(2).standard_normal(3000) * 3
    assert np.array_equal(erf_kernel.erf(x), erf64.erf(x))


def test_a_majority_band_run_on_the_whole_chunk_leaves_the_others_right() -> None:
    rng = np.random.default_rng(3)
    for scale in (0.3, 1.0, 3.0, 1e-300):  # the small or tiny band holds most, or none does
        x = np.concatenate([rng.standard_normal(9000) * scale, [np.inf, -np.inf, np.nan, 1e300, -3.0, 2e-310]])
        got, want = erf64.erf(x), EXACT(x).astype(np.float64)
        assert np.array_equal(got, want, equal_nan=True) or np.all(_ulps(got, want)[~np.isnan(x)] <= 1)
        assert np.isnan(got[-4]) and got[-6:-4].tolist() == [1.0, -1.0] and got[-3] == 1.0


def test_mostly_small_inputs_take_the_small_band_path_and_still_equal_math_erf() -> None:
    """A network's pre-activations (most |x| < 0.84375) run the small band on all elements and
    the others gathered: tiny, subnormal, middle, tail, huge, signed zeros, nan among them."""
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(60_000) * 0.3, rng.uniform(-7, 7, 2_000), np.array(SPECIAL),
                        np.array([np.nan, -np.nan, 1e-300, -3e-20, 0.5])])
    rng.shuffle(x)
    a = np.abs(x)
    assert np.mean((a >= 2.0 ** -28) & (a < 0.84375)) > 0.9  # the fast path's condition
    got, want = erf64.erf(x.reshape(2, -1)).reshape(-1), EXACT(x).astype(np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(x))
    ok = ~np.isnan(x)
    assert np.all(_ulps(got[ok], want[ok]) <= 1) and np.all(np.signbit(got[ok]) == np.signbit(want[ok]))
    assert np.all(got[ok & (a < 1.25)] == want[ok & (a < 1.25)])
    assert np.array_equal(got, erf64._banded(x, a), equal_nan=True)  # the same bits as band by band
