"""The standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 for float32 gelu, in float32
arithmetic (as torch computes float32 gelu), on cache-sized chunks.

erf(x / sqrt 2) = x P(t) / Q(t), t = min(x^2, 32) (beyond |x| = 4 sqrt 2, erf rounds to +-1 in
float32, and Phi is clamped to [0, 1]): the rational fit of ``python bench/fit_erf.py 6 4 --phi`` (relative error 7e-8),
both polynomials evaluated as one small float32 GEMM over the powers 1, t, .., t^6. Measured
against math.erf (tests/test_phi32.py): Phi within 2.5e-7 absolute (about 4 float32 ulps near 1;
torch's own float32 gelu is within 3.7e-7 relative for x > 0), clamped to [0, 1]. The float64
path is unchanged (erf_kernel, within 1 ulp of math.erf): a float32 Phi computed in float64
costs ~4x more (the GPT block's largest cost after its matrix products).
"""

from __future__ import annotations

import math

import numpy as np

Arr = np.ndarray

CHUNK = 16384
_T_MAX = np.float32(32.0)  # (4 sqrt 2)^2
_SQRT_2PI = math.sqrt(2 * math.pi)
# bench/fit_erf.py 6 4 --phi: coefficients of t^0.. of P (erf(x / sqrt 2) / x) and Q.
_P = (0.7978845119352126, 0.07325499395158931, 0.009109864015623258, 0.00035279578168141744,
      6.502819876620862e-06, -4.2831165058937186e-08, 2.1049134573546532e-10)
_Q = (1.0, 0.25847718487621324, 0.029499708390733223, 0.001870290934020157, 6.379697804154536e-05)
_DEGREE = len(_P) - 1
_COEFS = np.zeros((2, _DEGREE + 1), np.float32)  # row 0: P / 2, row 1: Q (padded with zeros)
_COEFS[0], _COEFS[1, :len(_Q)] = np.multiply(_P, 0.5), _Q
_HALF, _ZERO, _ONE = np.float32(0.5), np.float32(0.0), np.float32(1.0)


def gelu(x: Arr, derivative: bool = False) -> tuple[Arr, Arr]:
    """(x Phi(x), Phi(x)) of a float32 array, both new C-contiguous arrays of x's shape; with
    ``derivative``, (x Phi(x), gelu'(x)), gelu'(x) = Phi(x) + x exp(-x^2 / 2) / sqrt(2 pi) in
    rules_elementwise._gelu_vjp's operations and order (the first-order VJP is then g gelu'(x))."""
    flat = np.ascontiguousarray(x).reshape(-1)
    second, out = np.empty_like(flat), np.empty_like(flat)
    scratch = _Scratch(min(flat.size, CHUNK))
    for start in range(0, flat.size, CHUNK):
        stop = min(start + CHUNK, flat.size)
        piece, cdf = flat[start:stop], second[start:stop]
        square = scratch.phi(piece, cdf)
        np.multiply(piece, cdf, out=out[start:stop])
        if derivative:  # cdf + x * exp(-0.5 * x * x) / sqrt(2 pi), -0.5 x x as -0.5 (x x): equal
            square *= -0.5  # after exp (scaling by 0.5 is exact but for subnormals, exp of which is 1)
            np.exp(square, out=square)
            square *= piece
            square /= _SQRT_2PI
            cdf += square
    return out.reshape(x.shape), second.reshape(x.shape)


def phi(x: Arr) -> Arr:
    """Phi(x) of a float32 array (the value gelu(x) multiplies x by)."""
    return gelu(x)[1]


class _Scratch:
    """Work arrays of one chunk: x^2 and the powers 1, t, .., t^6 of t = min(x^2, 32) (row 0
    stays 1)."""

    def __init__(self, size: int) -> None:
        self.square = np.empty(size, np.float32)
        self.powers = np.empty((_DEGREE + 1, size), np.float32)
        self.powers[0] = 1
        self.rows = np.empty((2, size), np.float32)

    def phi(self, piece: Arr, out: Arr) -> Arr:
        """out = clamp(1/2 + x P(t) / (2 Q(t)), 0, 1); returns the chunk's x^2 (scratch)."""
        n = piece.size
        square, rows = self.square[:n], self.rows[:, :n]
        powers = self.powers[:, :n] if n == self.square.size else np.ones((_DEGREE + 1, n), np.float32)
        np.multiply(piece, piece, out=square)
        np.minimum(square, _T_MAX, out=powers[1])  # |x| > 4 sqrt 2: |erf| rounds to 1, clamped below
        for k in range(2, _DEGREE + 1):
            np.multiply(powers[k - 1], powers[1], out=powers[k])
        np.matmul(_COEFS, powers, out=rows)
        rows[0] *= piece
        np.divide(rows[0], rows[1], out=out)
        out += _HALF
        np.clip(out, _ZERO, _ONE, out=out)
        return square
