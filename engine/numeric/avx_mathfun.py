"""float32 log and sin/cos exactly as PyTorch's ``aten/src/ATen/native/cpu/avx_mathfun.h`` computes
them (Cephes polynomials, every step rounded to float32), and a correctly rounded float32 fma.

torch's float32 ``normal_`` of 16 or more values (``normal_fill_16_AVX2``) uses these, so
crossgrad's randn matches torch's bit for bit only if it repeats the same float32 steps; numpy's
own float32 log/sin/cos differ from them in the last bit for about a third of the values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

F = np.float32
_LOG_P = [F(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                         1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                         3.3333331174E-1)]
_SQRTHF, _LOG_Q1, _LOG_Q2 = F(0.707106781186547524), F(-2.12194440e-4), F(0.693359375)
_DP = (F(-0.78515625), F(-2.4187564849853515625e-4), F(-3.77489497744594108e-8))
_SIN_P = (F(-1.9515295891E-4), F(8.3321608736E-3), F(-1.6666654611E-1))
_COS_P = (F(2.443315711809948E-005), F(-1.388731625493765E-003), F(4.166664568298827E-002))
_FOPI = F(1.27323954473516)
_ONE, _HALF = F(1.0), F(0.5)


def log256(x: np.ndarray) -> np.ndarray:
    """log256_ps: NaN for x <= 0 (inputs here are in (0, 1])."""
    invalid = ~(x > 0)
    x = np.maximum(x, np.float32(1.17549435e-38))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(F) + _ONE
    x = ((bits & ~0x7F800000) | 0x3F000000).view(F)
    small = x < _SQRTHF
    tmp = np.where(small, x, F(0))
    x = x - _ONE
    e = e - np.where(small, _ONE, F(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma32(y, x, p)
    y = fma32(y * x, z, e * _LOG_Q1)
    y = y - z * _HALF  # z * 0.5 is exact: fused or not, one rounding
    x = fma32(e, _LOG_Q2, x + y)
    return np.where(invalid, F(np.nan), x)


def sincos256(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sincos256_ps: (sin x, cos x), Cephes' reduction by pi/4 in three parts."""
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(F)
    swap_sin = (j & 4) != 0
    poly = (j & 2) == 0
    swap_cos = ((j - 2) & 4) == 0
    for dp in _DP:
        x = fma32(y, dp, x)
    z = x * x
    c = fma32(fma32(fma32(_COS_P[0], z, _COS_P[1]), z, _COS_P[2]), z, 0)
    c = fma32(c, z, -(z * _HALF)) + _ONE
    s = fma32(fma32(_SIN_P[0], z, _SIN_P[1]), z, _SIN_P[2]) * z
    s = fma32(s, x, x)
    sin = np.where(poly, s, c)
    cos = np.where(poly, c, s)
    sin = np.where(sign_sin ^ swap_sin, -sin, sin)
    cos = np.where(swap_cos, -cos, cos)
    return sin.astype(F, copy=False), cos.astype(F, copy=False)


def fma32(a: Any, b: Any, c: Any) -> np.ndarray:
    """a * b + c rounded once to float32 (``_mm256_fmadd_ps``).

    The product of two float32 is exact in float64; the float64 sum s is rounded once more, and
    only when s sits exactly on a float32 midpoint can that second rounding pick the wrong side:
    there (rarely) the sum's exact remainder decides."""
    p = np.multiply(a, b, dtype=np.float64)
    s = np.add(p, c, dtype=np.float64)
    r = s.astype(F)
    tie = np.flatnonzero((s.view(np.uint64) & np.uint64(0x1FFFFFFF)) == np.uint64(0x10000000))
    if tie.size:
        r = r.reshape(-1)
        ps, cs, ss = p.reshape(-1)[tie], np.broadcast_to(np.asarray(c, np.float64), s.shape).reshape(-1)[tie], \
            s.reshape(-1)[tie]
        bb = ss - ps
        err = (ps - (ss - bb)) + (cs - bb)  # TwoSum: s + err == p + c exactly
        rt = r[tie]
        up, down = (err > 0) & (rt < ss), (err < 0) & (rt > ss)
        rt[up], rt[down] = np.nextafter(rt[up], F(np.inf)), np.nextafter(rt[down], F(-np.inf))
        r[tie] = rt
        r = r.reshape(s.shape)
    return r


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker: p + e == a * b exactly (no overflow)."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ta, tb = split * a, split * b
    ah, bh = ta - (ta - a), tb - (tb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    """a * b + c rounded once in float64 (the fused multiply-add a contracted ``x * s + m`` is):
    Boldo and Melquiond's emulation, the low parts added with rounding to odd."""
    a64, b64, c64 = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, c)))
    uh, ul = _two_prod(a64, b64)
    th, tl = _two_sum(c64, uh)
    v, w = _two_sum(tl, ul)
    even = (v.view(np.uint64) & np.uint64(1)) == 0
    odd_fix = (w != 0) & even & np.isfinite(v)
    v = np.where(odd_fix, np.nextafter(v, np.where(w > 0, np.inf, -np.inf)), v)
    return th + v
