"""erf in float64 on arrays, equal to math.erf (glibc's erf) in nearly every element, 1 ulp off in the rest.

Shared by the numeric engine (erf_kernel), the symbolic templates (codegen) and finite differences:
a special function, not a rule of either witness.

A numpy port of the fdlibm s_erf.c algorithm as glibc 2.36 evaluates it (sysdeps/ieee754/dbl-64/
s_erf.c: the same coefficients, polynomials split in even/odd parts summed in glibc's order):
  |x| < 2^-28:       x + efx x
  |x| < 0.84375:     x + x R(x^2)/S(x^2)                      (pp/qq)
  |x| < 1.25:        +-(erx + P(s)/Q(s)), s = |x| - 1          (pa/qa)
  |x| < 1/0.35:      +-(1 - exp(-z^2 - 0.5625) exp((z - x)(z + x) + R/S) / x), 1/x^2 in ra/sa
  |x| < 6:           the same with rb/sb
  |x| >= 6:          +-1
where z is |x| with its low 32 bits cleared. The only operation that may round differently from
glibc's is numpy's exp (only 1.25 <= |x| < 6 calls it): math.erf and this kernel differ in
about 1 element in 400 of 1.25 <= |x| < 2.86 (4 in 10^4 over tests/test_erf64.py's 1.2 million
points), by 1 ulp; below 1.25 they agree bit for bit.

Coefficients: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this
software is freely granted, provided that this notice is preserved.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Arr = np.ndarray

ERX = 8.45062911510467529297e-01
EFX = 1.28379167095512586316e-01
EFX16 = 16.0 * 1.28379167095512586316e-01  # glibc: 0.0625 * (16 x + (16 efx) x) below 2^-1015
PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
      -5.77027029648944159157e-03, -2.37630166566501626084e-05)
QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
      1.32494738004321644526e-04, -3.96022827877536812320e-06)
PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
      3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
      -2.16637559486879084300e-03)
QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
      1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
      -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
      -8.12874355063065934246e+01, -9.81432934416914548592e+00)
SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
      6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
      6.57024977031928170135e+00, -6.04244152148580987438e-02)
RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
      -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
      -4.83519191608651397019e+02)
SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
      3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
      -2.24409524465858183362e+01)
_TINY = 2.0 ** -28
_SUBNORMAL = float(np.uint64(0x0080000000000000).view(np.float64))  # glibc's ix < 0x00800000
_SPLIT = float(np.uint64(0x4006DB6E00000000).view(np.float64))  # ~1/0.35
CHUNK = 16384
_HIGH = np.uint64(0xFFFFFFFF00000000)


def _ratio(p: tuple[float, ...], q: tuple[float, ...], s: Arr) -> Arr:
    """P(s) / Q(s), both summed in glibc's order (see _sum) over shared powers s^2, s^4 = s^2 s^2,
    s^6 = s^4 s^2, s^8 = s^4 s^4."""
    top = max(len(p), len(q)) - 1
    powers = {2: s * s}
    if top >= 4:
        powers[4] = powers[2] * powers[2]
    if top >= 6:
        powers[6] = powers[4] * powers[2]
    if top >= 8:
        powers[8] = powers[4] * powers[4]
    return _sum(p, s, powers) / _sum(q, s, powers)


def _sum(c: tuple[float, ...], s: Arr, powers: dict[int, Arr]) -> Arr:
    """(c0 + s c1) + s^2 (c2 + s c3) + s^4 (c4 + s c5) + ..., left to right; a lone top
    coefficient multiplies its power directly (glibc's s6*P4, s8*sa8)."""
    out = s * c[1]
    out += c[0]
    for k in range(2, len(c), 2):
        if k + 1 < len(c):
            term = s * c[k + 1]
            term += c[k]
            term *= powers[k]
        else:
            term = powers[k] * c[k]
        out += term
    return out


def erf(x: Arr) -> Arr:
    """erf elementwise for a float64 array (any shape), a new float64 array.

    When most elements lie in the band 2^-28 <= |x| < 0.84375 (a network's pre-activations
    scaled by 1/sqrt 2), that band runs on all of them and the others are gathered once and
    overwritten: three passes find them. Else each element's band is found over the whole array
    (_banded)."""
    x = np.asarray(x, np.float64)
    out = np.empty(x.shape)
    flat_x, flat_out = x.ravel(), out.reshape(-1)
    if not flat_x.size:
        return out
    if _mostly_small(flat_x[:CHUNK]):
        with np.errstate(all="ignore"):  # (elements of other bands may overflow; overwritten below)
            rest = _small_into(flat_x, flat_out)
        if rest.size:
            flat_out[rest] = _banded(flat_x[rest], np.abs(flat_x[rest]))
        return out
    return _banded(flat_x, np.abs(flat_x)).reshape(x.shape)


def _others(a: Arr, out: Arr) -> Arr:
    """out = whether each |x| lies outside the small band (a nan does not: that band gives it nan)."""
    np.greater_equal(a, _EDGES[1], out=out)
    out |= a < _TINY
    return out


def _mostly_small(x: Arr) -> bool:
    """Whether most of these elements lie in the small band (then it runs on all of them)."""
    return 2 * int(np.count_nonzero(_others(np.abs(x), np.empty(x.shape, bool)))) < x.size


def _banded(flat_x: Arr, a: Arr) -> Arr:
    """erf of a 1-D array, ``a`` its absolute values.

    Each element's band is found over the whole array; a band holding most elements runs on all
    of them in place (no gather and scatter; the other bands overwrite theirs), each other band
    on its elements gathered once. Band functions run on cache-sized chunks, and a small band
    costs a few numpy calls, not a few per chunk."""
    flat_out = np.empty(flat_x.shape)
    if not flat_x.size:
        return flat_out
    below = [a < edge for edge in _EDGES]  # (nan is below none: it lands with +-1)
    counts: Arr = np.diff(np.array([0] + [int(np.count_nonzero(b)) for b in below] + [a.size]))
    most = int(np.argmax(counts[:-1]))
    whole = 2 * counts[most] > a.size
    if whole:
        with np.errstate(all="ignore"):  # (elements of other bands may overflow; overwritten below)
            _chunked(_FUNCS[most], flat_x, a, flat_out)
    for k, fn in enumerate(_FUNCS):
        if counts[k] and not (k == most and whole):
            idx = np.flatnonzero(below[k] if k == 0 else below[k] ^ below[k - 1])
            part = np.empty(idx.size)
            _chunked(fn, flat_x[idx], a[idx], part)
            flat_out[idx] = part
    if counts[-1]:
        idx = np.flatnonzero(~below[-1])
        ends = np.copysign(1.0, flat_x[idx])
        ends[np.isnan(flat_x[idx])] = np.nan
        flat_out[idx] = ends
    return flat_out


def _chunked(fn: Callable[[Arr, Arr], Arr], x: Arr, a: Arr, out: Arr) -> None:
    """out[:] = fn(x, a) on 1-D arrays, CHUNK elements at a time."""
    for start in range(0, x.size, CHUNK):
        out[start:start + CHUNK] = fn(x[start:start + CHUNK], a[start:start + CHUNK])


def _small_into(x: Arr, out: Arr) -> Arr:
    """out[:] = _small(x) on 1-D arrays: the same operations in the same order (the same bits),
    a chunk at a time into reused work arrays instead of a new array per operation. Returns the
    positions of the elements outside the small band (found chunk by chunk too)."""
    z, p2, p4, r, q = (np.empty(min(x.size, CHUNK)) for _ in range(5))
    mask = np.empty(z.size, bool)
    rest = []
    for start in range(0, x.size, CHUNK):
        xc, oc = x[start:start + CHUNK], out[start:start + CHUNK]
        n = xc.size
        if n < z.size:
            z, p2, p4, r, q, mask = z[:n], p2[:n], p4[:n], r[:n], q[:n], mask[:n]
        np.abs(xc, out=z)
        if _others(z, mask).any():
            rest.append(np.flatnonzero(mask) + start)
        np.multiply(xc, xc, out=z)
        np.multiply(z, z, out=p2)
        np.multiply(p2, p2, out=p4)
        _sum_into(PP, z, p2, p4, r, oc)  # (oc: scratch until the last line writes it)
        _sum_into(QQ, z, p2, p4, q, oc)
        np.divide(r, q, out=r)
        np.multiply(xc, r, out=r)
        np.add(xc, r, out=oc)
    return np.concatenate(rest) if rest else np.empty(0, np.intp)


def _sum_into(c: tuple[float, ...], s: Arr, p2: Arr, p4: Arr, out: Arr, term: Arr) -> None:
    """``_sum(c, s, {2: p2, 4: p4})`` for five or six coefficients, into ``out`` (``term``: scratch)."""
    np.multiply(s, c[1], out=out)
    out += c[0]
    for k, power in ((2, p2), (4, p4)):
        if k + 1 < len(c):
            np.multiply(s, c[k + 1], out=term)
            term += c[k]
            term *= power
        else:
            np.multiply(power, c[k], out=term)
        out += term


def _tiny(x: Arr, a: Arr) -> Arr:
    out = x + EFX * x
    sub = a < _SUBNORMAL
    out[sub] = 0.0625 * (16.0 * x[sub] + EFX16 * x[sub])
    return out


def _small(x: Arr, a: Arr) -> Arr:
    z = x * x
    return x + x * _ratio(PP, QQ, z)


def _middle(x: Arr, a: Arr) -> Arr:
    s = a - 1.0
    y = ERX + _ratio(PA, QA, s)
    return np.copysign(y, x)


def _tail(r: tuple[float, ...], q: tuple[float, ...]) -> Callable[[Arr, Arr], Arr]:
    """The band 1.25 <= |x| < 6 with one pair of rational coefficients (ra/sa or rb/sb)."""
    def band(x: Arr, a: Arr) -> Arr:
        s = 1.0 / (a * a)
        z = (a.view(np.uint64) & _HIGH).view(np.float64)
        e = np.exp(-z * z - 0.5625) * np.exp((z - a) * (z + a) + _ratio(r, q, s))
        return np.copysign(1.0 - e / a, x)
    return band


_EDGES = (_TINY, 0.84375, 1.25, _SPLIT, 6.0)
_FUNCS = (_tiny, _small, _middle, _tail(RA, SA), _tail(RB, SB))
