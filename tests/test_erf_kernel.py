"""The vectorized erf (engine/numeric/erf_kernel.py) and the chunked elementwise kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossgrad.engine.numeric import erf_kernel
from crossgrad.engine.numeric.chunked import chunked
from crossgrad.engine.numeric.rules_elementwise import _gelu, _gelu_vjp

EXACT = np.frompyfunc(math.erf, 1, 1)


def test_float32_erf_is_math_erf_rounded_within_one_ulp() -> None:
    x = np.linspace(-6, 6, 400_001, dtype=np.float32)
    x = np.concatenate([x, np.float32(10.0) ** np.arange(-40, 1, dtype=np.float32)])  # tiny, subnormal
    want = EXACT(x.astype(np.float64)).astype(np.float64).astype(np.float32)
    got = erf_kernel.erf(x)
    assert got.dtype == np.float32
    ulps = np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want)).astype(np.float64)
    assert ulps.max() <= 1
    assert np.mean(got == want) > 0.999


def test_special_values_and_shape() -> None:
    x = np.array([[0.0, -0.0, np.inf, -np.inf], [np.nan, 4.0, -100.0, 1e-45]], np.float32)
    got = erf_kernel.erf(x)
    assert got.shape == (2, 4)
    assert got[0].tolist() == [0.0, 0.0, 1.0, -1.0] and np.signbit(got[0, 1])
    assert np.isnan(got[1, 0]) and got[1, 1:3].tolist() == [1.0, -1.0] and got[1, 3] > 0


def test_float64_is_math_erf_within_one_ulp() -> None:
    """float64 runs glibc's algorithm in numpy (tests/test_erf64.py); only numpy's exp may round
    unlike glibc's, so a few elements in 10^4 differ, by 1 ulp."""
    x = np.random.default_rng(0).standard_normal(100_000) * 3
    got, want = erf_kernel.erf(x), EXACT(x).astype(np.float64)
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= 1
    assert np.mean(got == want) > 0.999


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_gelu_is_bit_identical(approximate: str, dtype: type) -> None:
    rng = np.random.default_rng(1)
    x, g = (rng.standard_normal((3, 40_001)).astype(dtype) for _ in range(2))  # 3 chunks and a tail
    at = {"approximate": approximate}
    out = _gelu(x, at)
    assert np.array_equal(chunked(_gelu)(x, at), out)
    assert np.array_equal(chunked(_gelu_vjp)(g, x, out, at), _gelu_vjp(g, x, out, at))


def test_chunked_falls_back_on_mixed_shapes_and_strided_arrays() -> None:
    seen = []
    fn = chunked(lambda a, b: seen.append(a.shape) or a + b)
    a = np.ones((2, 40_000))
    assert fn(a, np.ones(40_000)).shape == (2, 40_000) and seen == [(2, 40_000)]
    assert fn(a.T, a.T).flags.f_contiguous and seen[-1] == (40_000, 2)
    fn(a, a)
    assert seen[-5:] == [(16_384,)] * 4 + [(80_000 - 4 * 16_384,)]
