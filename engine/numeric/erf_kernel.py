"""erf on arrays. numpy has none; math.erf one element at a time cost ~40% of a GPT block's
training step (gelu calls it in the forward and again in the VJP).

float64 (and any dtype but float32/float16) keeps math.erf, correctly rounded to ~1 ulp.
float32/float16: erf(x) = x P(x^2) / Q(x^2) on |x| <= 4 (erf rounds to +-1 beyond), evaluated
in float64 on cache-sized chunks and rounded once to the input's dtype. The fit's relative
error is 1.8e-11 (bench/fit_erf.py), so the result equals math.erf rounded to float32 except
when the exact value lies within ~2e-11 of a rounding boundary (about 1 element in 10^4, then
1 ulp apart; tests/test_erf_kernel.py).
"""

from __future__ import annotations

import math

import numpy as np

Arr = np.ndarray

_ERF = np.frompyfunc(math.erf, 1, 1)
_X_MAX = 4.0
_CHUNK = 16384
# bench/fit_erf.py 8 6: coefficients of t^0.. in P and Q.
_P = (1.1283791670768852, 0.20671738722220018, 0.057908115806573845, 0.005066395254444321,
      0.0004744837146967424, 1.9768622004695103e-05, 3.4916168054088675e-07, -2.6332667841724356e-09,
      1.642167198222108e-11)
_Q = (1.0, 0.5165318469702135, 0.12349702142402266, 0.017811962469683737, 0.0016769142643598635,
      0.00010187171668638136, 3.4378955728601177e-06)
_FAST = (np.dtype(np.float32), np.dtype(np.float16))


def erf(x: Arr) -> Arr:
    """erf elementwise in x's dtype (see the module docstring for the float32 path)."""
    x = np.asarray(x)
    if x.dtype not in _FAST:
        return np.asarray(_ERF(np.asarray(x, np.float64)), np.float64).astype(x.dtype)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.shape, x.dtype)
    size = min(flat.size, _CHUNK)
    z, t, num, den = (np.empty(size) for _ in range(4))
    for start in range(0, flat.size, _CHUNK):
        stop = min(start + _CHUNK, flat.size)
        n = stop - start
        _rational(flat[start:stop], z[:n], t[:n], num[:n], den[:n], out[start:stop])
    return out.reshape(x.shape)


def _horner(t: Arr, coefs: tuple, acc: Arr) -> Arr:
    np.multiply(t, coefs[-1], out=acc)
    acc += coefs[-2]
    for c in coefs[-3::-1]:
        acc *= t
        acc += c
    return acc


def _rational(chunk: Arr, z: Arr, t: Arr, num: Arr, den: Arr, out: Arr) -> None:
    """out = z P(z^2) / Q(z^2), z = chunk clipped to [-4, 4], in float64 scratch arrays."""
    np.clip(chunk, -_X_MAX, _X_MAX, out=z)
    np.multiply(z, z, out=t)
    _horner(t, _P, num)
    num *= z
    np.divide(num, _horner(t, _Q, den), out=out, casting="same_kind")
