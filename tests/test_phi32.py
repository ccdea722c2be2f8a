"""float32 gelu's Phi in float32 arithmetic (engine/numeric/phi32.py) against math.erf and torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossgrad.engine.numeric import phi32

EXACT = np.frompyfunc(math.erf, 1, 1)


def _grid() -> np.ndarray:
    tiny = np.float32(10.0) ** np.arange(-40, 1, dtype=np.float32)  # down to subnormals
    return np.concatenate([np.linspace(-9, 9, 600_001, dtype=np.float32), tiny, -tiny])


def test_phi_is_within_2_5e_7_of_math_erf_and_in_0_1() -> None:
    x = _grid()
    want = 0.5 * (1 + EXACT(x.astype(np.float64) / math.sqrt(2)).astype(np.float64))
    got = phi32.phi(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    assert np.abs(got - want).max() <= 2.5e-7
    assert got.min() >= 0 and got.max() <= 1
    pos = x > 0  # gelu(x) = x Phi(x) to 2.5e-7 relative where Phi >= 1/2 (torch's: 3.7e-7)
    assert np.max(np.abs(got[pos] - want[pos]) / want[pos]) <= 2.5e-7


def test_gelu_is_x_times_phi_on_any_shape_and_layout() -> None:
    x = np.random.default_rng(0).standard_normal((70, 500)).astype(np.float32).T  # 2 chunks + tail
    out, phi = phi32.gelu(x)
    assert out.shape == phi.shape == x.shape and out.flags.c_contiguous
    np.testing.assert_array_equal(out, x * phi)
    np.testing.assert_array_equal(phi, phi32.phi(np.ascontiguousarray(x)))
    for shape in ((), (0, 3), (1,)):
        empty_or_tiny = np.full(shape, 0.25, np.float32)
        assert phi32.gelu(empty_or_tiny)[0].shape == shape


def test_special_values() -> None:
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 100.0, -100.0], np.float32)
    with np.errstate(invalid="ignore"):  # -inf * 0: nan, as torch's gelu(-inf)
        out, phi = phi32.gelu(x)
    assert phi[:4].tolist() == [0.5, 0.5, 1.0, 0.0] and np.isnan(phi[4])
    assert out[0] == 0 and np.signbit(out[1]) and out[2] == np.inf and np.isnan(out[4])
    assert out[5] == 100.0 and out[6] == 0.0


def test_gelu_is_as_close_to_exact_as_torchs_float32_gelu() -> None:
    """Below about -2 both lose digits to 1 + erf's cancellation in float32 (torch: 1.10e-6)."""
    x = np.linspace(-6, 6, 200_001, dtype=np.float32)
    exact = 0.5 * x * (1 + EXACT(x.astype(np.float64) / math.sqrt(2)).astype(np.float64))
    assert np.abs(phi32.gelu(x)[0] - exact).max() <= 1.07e-6


def test_gelu_matches_torch_within_the_golden_float32_tolerance() -> None:
    torch = pytest.importorskip("torch")
    x = np.linspace(-2, 6, 100_001, dtype=np.float32)
    want = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(phi32.gelu(x)[0], want, rtol=3e-6, atol=3e-7)  # test_golden_opsa's TOL
