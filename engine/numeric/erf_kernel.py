"""erf on arrays. numpy has none; math.erf one element at a time cost ~40% of a GPT block's
training step (gelu calls it in the forward and again in the VJP).

float64 (and any dtype but float32/float16): erf64, a numpy port of glibc's erf (math.erf's) that
equals math.erf but in ~1 element in 400 of 1.25 <= |x| < 2.86, 1 ulp apart (numpy's exp).
float32/float16: erf(x) = x P(x^2) / Q(x^2) on |x| <= 4 (erf rounds to +-1 beyond), evaluated
in float64 on cache-sized chunks and rounded once to the input's dtype. The fit's relative
error is 1.8e-11 (bench/fit_erf.py), so the result equals math.erf rounded to float32 except
when the exact value lies within ~2e-11 of a rounding boundary (about 1 element in 10^4, then
1 ulp apart; tests/test_erf_kernel.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import erf64

Arr = np.ndarray

_X_MAX = 4.0
CHUNK = 8192
# bench/fit_erf.py 8 6: coefficients of t^0.. in P and Q.
_P = (1.1283791670768852, 0.20671738722220018, 0.057908115806573845, 0.005066395254444321,
      0.0004744837146967424, 1.9768622004695103e-05, 3.4916168054088675e-07, -2.6332667841724356e-09,
      1.642167198222108e-11)
_Q = (1.0, 0.5165318469702135, 0.12349702142402266, 0.017811962469683737, 0.0016769142643598635,
      0.00010187171668638136, 3.4378955728601177e-06)
FAST = (np.dtype(np.float32), np.dtype(np.float16))
_DEGREE = len(_P) - 1
_COEFS = np.zeros((2, _DEGREE))  # row 0: P's coefficients of t..t^8, row 1: Q's of t..t^6
_COEFS[0], _COEFS[1, :len(_Q) - 1] = _P[1:], _Q[1:]


def erf(x: Arr) -> Arr:
    """erf elementwise in x's dtype (see the module docstring for the float32 path)."""
    x = np.asarray(x)
    if x.dtype not in FAST:
        return erf64.erf(x).astype(x.dtype, copy=False)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.shape, x.dtype)
    erf_into(flat, out)
    return out.reshape(x.shape)


def erf_into(flat: Arr, out: Arr) -> None:
    """out[:] = erf(flat) for 1-D float32/float16 arrays, one cache-sized chunk at a time."""
    scratch = Scratch(min(flat.size, CHUNK), flat.dtype)
    for start in range(0, flat.size, CHUNK):
        stop = min(start + CHUNK, flat.size)
        scratch.rational(flat[start:stop], out[start:stop])


class Scratch:
    """Work arrays for one chunk: z (the input's dtype), and in float64 the powers t..t^8 of
    t = z^2 and the rows P - 1, Q - 1."""

    def __init__(self, size: int, dtype: Any = np.float32) -> None:
        self.z, self.powers, self.rows = np.empty(size, dtype), np.empty((_DEGREE, size)), np.empty((2, size))

    def rational(self, chunk: Arr, out: Arr) -> None:
        """out = z P(t) / Q(t), z = chunk clipped to [-4, 4]; both polynomials as one small GEMM."""
        n = chunk.size
        z = self.z[:n]
        powers = self.powers[:, :n] if n == self.z.size else np.empty((_DEGREE, n))
        rows = self.rows[:, :n] if n == self.z.size else np.empty((2, n))
        np.clip(chunk, -_X_MAX, _X_MAX, out=z)  # (the bounds are exact in float16 too)
        np.multiply(z, z, out=powers[0], dtype=np.float64)
        for k in range(1, _DEGREE):
            np.multiply(powers[k - 1], powers[0], out=powers[k])
        np.matmul(_COEFS, powers, out=rows)
        rows[0] += _P[0]
        rows[0] *= z
        rows[1] += _Q[0]
        np.divide(rows[0], rows[1], out=out, casting="same_kind")
