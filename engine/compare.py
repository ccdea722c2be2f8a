"""Element-by-element comparison of two witnesses on one leaf, under the tolerance policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .tolerance import REL_FLOOR, Tolerance

AGREE, MISMATCH, CONVENTION, NON_FINITE, SKIPPED = "agree", "mismatch", "convention", "non_finite", "skipped"
SEVERITY = {MISMATCH: 4, NON_FINITE: 3, CONVENTION: 2, AGREE: 1, SKIPPED: 0}

# kink(index, a, b) -> True when the disagreement at ``index`` is a convention at a kink
KinkTest = Callable[[tuple[int, ...], float, float], bool]


@dataclass
class PairComparison:
    witnesses: tuple[str, str]
    verdict: str
    tolerance: Tolerance | None = None
    total: int = 0
    mismatched: int = 0
    kinks: int = 0
    non_finite: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulp: float = 0.0
    worst_index: tuple[int, ...] | None = None
    worst_values: tuple[float, float] | None = None
    unit: str = "elements"  # or "directions" for directional finite differences
    reason: str = ""


def worst(verdicts: list[str]) -> str:
    """The most severe verdict (skipped when nothing was compared)."""
    return max(verdicts, key=SEVERITY.__getitem__, default=SKIPPED)


# leaf dtype -> (float type, same-width integer type, that integer type's minimum)
_BITS = {"float32": (np.float32, np.int32, -(2**31)), "float64": (np.float64, np.int64, -(2**63))}


def _ordered_bits(x: np.ndarray, dtype: str) -> np.ndarray:
    """The values' bit patterns as int64, reordered so that integer order is float order
    (-0.0 and 0.0 meet)."""
    float_type, int_type, lowest = _BITS["float32" if dtype == "float32" else "float64"]
    i = np.asarray(x, float_type).view(int_type).astype(np.int64)
    return np.where(i < 0, lowest - i, i)


def _ulps_between(oa: np.ndarray, ob: np.ndarray) -> np.ndarray:
    """The larger ordered pattern minus the smaller, as unsigned 64-bit (exact where float64
    would round above 2^53)."""
    ua, ub = oa.view(np.uint64), ob.view(np.uint64)
    return np.where(oa >= ob, ua - ub, ub - ua).astype(np.float64)


def ulp_distance(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    """How many representable ``dtype`` values lie between a and b (as floats)."""
    return _ulps_between(_ordered_bits(a, dtype), _ordered_bits(b, dtype))


class Values:
    """One witness's gradient for a leaf, with what each of its comparisons needs computed once."""

    def __init__(self, values: np.ndarray) -> None:
        self.data = np.asarray(values, np.float64)
        self.finite = np.isfinite(self.data)
        self.all_finite = bool(self.finite.all())
        self.magnitude = np.abs(self.data)
        self._ordered: dict[str, np.ndarray] = {}

    def ordered(self, dtype: str) -> np.ndarray:
        if dtype not in self._ordered:
            self._ordered[dtype] = _ordered_bits(self.data, dtype)
        return self._ordered[dtype]


@np.errstate(all="ignore")
def compare(pair: tuple[str, str], a: np.ndarray | Values, b: np.ndarray | Values, dtype: str,
            tol: Tolerance, kink: KinkTest | None = None, unit: str = "elements",
            seed_scale: float = 1.0) -> PairComparison:
    va = a if isinstance(a, Values) else Values(a)
    vb = b if isinstance(b, Values) else Values(b)
    result = PairComparison(pair, AGREE, tol, total=va.data.size, unit=unit)
    if va.all_finite and vb.all_finite:
        a64, b64, bigger, finite = va.data, vb.data, np.maximum(va.magnitude, vb.magnitude), None
        ulps = _ulps_between(va.ordered(dtype), vb.ordered(dtype)) if a64.size else None
    else:
        finite = va.finite & vb.finite
        result.non_finite = int((~finite).sum())
        if not finite.any():
            result.verdict = NON_FINITE
            return result
        a64, b64 = np.where(finite, va.data, 0.0), np.where(finite, vb.data, 0.0)  # only finite pairs count
        bigger = np.maximum(np.abs(a64), np.abs(b64))
        ulps = ulp_distance(a64, b64, dtype)
    diff = np.abs(a64 - b64)
    scale = float(bigger.max(initial=0.0))
    rel = diff / np.maximum(bigger, REL_FLOOR + tol.atol * scale)
    bad = diff > tol.atol * scale + tol.rtol * bigger + tol.floor * seed_scale
    if ulps is not None:
        _fill_figures(result, a64, b64, diff, rel, ulps, finite)
    if bad.any():
        _count_bad(result, np.argwhere(bad), a64, b64, kink)
    result.verdict = _verdict(result)
    return result


def _count_bad(result: PairComparison, where: np.ndarray, a: np.ndarray, b: np.ndarray,
               kink: KinkTest | None) -> None:
    for index in where:
        key = tuple(int(k) for k in index)
        if kink is not None and kink(key, float(a[key]), float(b[key])):
            result.kinks += 1
        else:
            result.mismatched += 1


def _fill_figures(result: PairComparison, a: np.ndarray, b: np.ndarray, diff: np.ndarray,
                  rel: np.ndarray, ulps: np.ndarray, finite: np.ndarray | None) -> None:
    """Largest differences over the finite pairs (``finite`` is None when all are); non-finite
    pairs arrive zeroed, so they add nothing to the maxima and never become the worst."""
    result.max_abs = float(diff.max())
    result.max_rel = float(rel.max())
    result.max_ulp = float(ulps.max())
    ranked = rel if finite is None else np.where(finite, rel, -1.0)
    index = np.unravel_index(int(np.argmax(ranked)), a.shape)
    result.worst_index = tuple(int(i) for i in index)
    result.worst_values = (float(a[index]), float(b[index]))


def _verdict(result: PairComparison) -> str:
    if result.mismatched:
        return MISMATCH
    if result.non_finite:
        return NON_FINITE
    return CONVENTION if result.kinks else AGREE
