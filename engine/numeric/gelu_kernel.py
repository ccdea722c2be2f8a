"""gelu (approximate="none") computing erf once per step instead of in the forward and again in
the VJP (erf was the GPT block's largest cost after its matrix products).

The forward keeps Phi(x) = (1 + erf(x / sqrt 2)) / 2 beside its output and the first-order VJP
reads it: g (Phi(x) + x exp(-x^2 / 2) / sqrt(2 pi)). Phi is derived data, not an input or output
of the op, so the rule's VJP under create_graph (tensors, not arrays) does not read it: it
recomputes Phi from the live input, where the recorded erf op carries the second derivative.
"""

from __future__ import annotations

import math

import numpy as np

from . import erf_kernel
from .ruletools import Arr

_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2 * math.pi)
_STEP = 16384


def forward(x: Arr) -> tuple[Arr, Arr]:
    """(gelu(x), Phi(x)) in x's dtype; out = x Phi(x) equals 0.5 x (1 + erf(x / sqrt 2)) bit for bit
    (scaling by 0.5 is exact)."""
    cdf = np.divide(x, _SQRT_2)
    if cdf.dtype in erf_kernel.FAST and cdf.ndim:
        cdf = np.ascontiguousarray(cdf)  # (a strided input gives a strided quotient)
        flat = cdf.reshape(-1)
        erf_kernel.erf_into(flat, flat)  # (each chunk is read before it is written)
    else:
        cdf = np.asarray(erf_kernel.erf(cdf))
    cdf += 1
    cdf *= 0.5
    return x * cdf, cdf


def values(x: Arr) -> Arr:
    """``forward(x)[0]`` of a float64 array, bit for bit, without keeping Phi: the same operations
    a cache-sized chunk at a time (plain forward evaluations: finite differences' copies)."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.shape)
    scaled = np.empty(min(flat.size, VALUES_CHUNK))
    for start in range(0, flat.size, VALUES_CHUNK):
        piece = flat[start:start + VALUES_CHUNK]
        cdf = erf_kernel.erf(np.divide(piece, _SQRT_2, out=scaled[:piece.size]))
        cdf += 1
        cdf *= 0.5
        np.multiply(piece, cdf, out=out[start:start + VALUES_CHUNK])
    return out.reshape(x.shape)


VALUES_CHUNK = 65536  # 512 KiB of float64 per array: the chunk's few arrays stay in a core's L2


def vjp(g: Arr, x: Arr, cdf: Arr) -> Arr:
    """g (Phi(x) + x exp(-x^2 / 2) / sqrt(2 pi)) on arrays, chunk by chunk when their layouts allow."""
    if not (g.shape == x.shape == cdf.shape and g.flags.c_contiguous and x.flags.c_contiguous
            and cdf.flags.c_contiguous):
        return g * (cdf + x * np.exp(-0.5 * x * x) / _SQRT_2PI)
    gf, xf, cf = (a.reshape(-1) for a in (g, x, cdf))
    out = np.empty(gf.shape, np.result_type(g, x))
    for start in range(0, xf.size, _STEP):
        piece, o = xf[start:start + _STEP], out[start:start + _STEP]
        np.multiply(piece, -0.5, out=o)
        o *= piece
        np.exp(o, out=o)
        o *= piece
        o /= _SQRT_2PI
        o += cf[start:start + _STEP]
        o *= gf[start:start + _STEP]
    return out.reshape(x.shape)
