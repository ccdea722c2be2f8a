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


def ulp_distance(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    """How many representable ``dtype`` values lie between a and b (as floats).

    The bit patterns, reordered so that integer order is float order (-0.0 and 0.0 meet), are
    subtracted as unsigned 64-bit integers: exact, where float64 would round above 2^53.
    """
    float_type, int_type, lowest = _BITS["float32" if dtype == "float32" else "float64"]

    def ordered(x: np.ndarray) -> np.ndarray:
        i = np.asarray(x, float_type).view(int_type).astype(np.int64)
        return np.where(i < 0, lowest - i, i)

    oa, ob = ordered(a), ordered(b)
    ua, ub = oa.view(np.uint64), ob.view(np.uint64)  # the larger minus the smaller, modulo 2^64: exact
    return np.where(oa >= ob, ua - ub, ub - ua).astype(np.float64)


@np.errstate(all="ignore")
def compare(pair: tuple[str, str], a: np.ndarray, b: np.ndarray, dtype: str, tol: Tolerance,
            kink: KinkTest | None = None, unit: str = "elements", seed_scale: float = 1.0) -> PairComparison:
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    result = PairComparison(pair, AGREE, tol, total=a64.size, unit=unit)
    finite = np.isfinite(a64) & np.isfinite(b64)
    all_finite = bool(finite.all())
    if not all_finite:
        result.non_finite = int((~finite).sum())
        if not finite.any():
            result.verdict = NON_FINITE
            return result
        a64, b64 = np.where(finite, a64, 0.0), np.where(finite, b64, 0.0)  # only finite pairs count
    diff = np.abs(a64 - b64)
    bigger = np.maximum(np.abs(a64), np.abs(b64))
    scale = float(bigger.max(initial=0.0))
    rel = diff / np.maximum(bigger, REL_FLOOR + tol.atol * scale)
    bad = diff > tol.atol * scale + tol.rtol * bigger + tol.floor * seed_scale
    if a64.size:
        _fill_figures(result, a64, b64, diff, rel, finite if not all_finite else None, dtype)
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
                  rel: np.ndarray, finite: np.ndarray | None, dtype: str) -> None:
    """Largest differences over the finite pairs (``finite`` is None when all are); non-finite
    pairs arrive zeroed, so they add nothing to the maxima and never become the worst."""
    result.max_abs = float(diff.max())
    result.max_rel = float(rel.max())
    result.max_ulp = float(ulp_distance(a, b, dtype).max())
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
