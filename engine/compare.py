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


def ulp_distance(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    """How many representable ``dtype`` values lie between a and b (as floats)."""
    np_dtype = np.float32 if dtype == "float32" else np.float64
    int_type = np.int32 if np_dtype is np.float32 else np.int64

    def ordered(x: np.ndarray) -> np.ndarray:
        i = np.asarray(x, np_dtype).view(int_type).astype(np.float64)
        return np.where(i < 0, -(i - np.iinfo(int_type).min), i)

    return np.abs(ordered(a) - ordered(b))


@np.errstate(all="ignore")
def compare(pair: tuple[str, str], a: np.ndarray, b: np.ndarray, dtype: str, tol: Tolerance,
            kink: KinkTest | None = None, unit: str = "elements", seed_scale: float = 1.0) -> PairComparison:
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    result = PairComparison(pair, AGREE, tol, total=a64.size, unit=unit)
    finite = np.isfinite(a64) & np.isfinite(b64)
    result.non_finite = int((~finite).sum())
    if not finite.any():
        result.verdict = NON_FINITE if result.non_finite else AGREE
        return result
    diff = np.where(finite, np.abs(a64 - b64), 0.0)
    bigger = np.where(finite, np.maximum(np.abs(a64), np.abs(b64)), 0.0)
    scale = float(bigger.max())
    rel = diff / np.maximum(bigger, REL_FLOOR + tol.atol * scale)
    bad = finite & (diff > tol.atol * scale + tol.rtol * bigger + tol.floor * seed_scale)
    _fill_figures(result, a64, b64, diff, rel, finite, dtype)
    for index in np.argwhere(bad):
        key = tuple(int(k) for k in index)
        if kink is not None and kink(key, float(a64[key]), float(b64[key])):
            result.kinks += 1
        else:
            result.mismatched += 1
    result.verdict = _verdict(result)
    return result


def _fill_figures(result: PairComparison, a: np.ndarray, b: np.ndarray, diff: np.ndarray,
                  rel: np.ndarray, finite: np.ndarray, dtype: str) -> None:
    result.max_abs = float(diff.max())
    result.max_rel = float(np.where(finite, rel, 0.0).max())
    ulps = np.where(finite, ulp_distance(np.where(finite, a, 0), np.where(finite, b, 0), dtype), 0)
    result.max_ulp = float(ulps.max())
    index = np.unravel_index(int(np.argmax(np.where(finite, rel, -1.0))), a.shape)
    result.worst_index = tuple(int(i) for i in index)
    result.worst_values = (float(a[index]), float(b[index]))


def _verdict(result: PairComparison) -> str:
    if result.mismatched:
        return MISMATCH
    if result.non_finite:
        return NON_FINITE
    return CONVENTION if result.kinks else AGREE
