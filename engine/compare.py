"""Element-by-element comparison of two witnesses on one leaf, under the tolerance policy."""

from __future__ import annotations

import functools
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


def compare(pair: tuple[str, str], a: np.ndarray, b: np.ndarray, dtype: str, tol: Tolerance,
            kink: KinkTest | None = None, unit: str = "elements", seed_scale: float = 1.0) -> PairComparison:
    """One pair of witnesses on one leaf (see :func:`compare_rows`)."""
    return compare_rows([pair], np.asarray(a)[None], np.asarray(b)[None], dtype, [tol], [kink], unit,
                        seed_scale)[0]


@np.errstate(all="ignore")
def compare_rows(pairs: list[tuple[str, str]], a: np.ndarray, b: np.ndarray, dtype: str,
                 tols: list[Tolerance], kinks: list[KinkTest | None] | None = None, unit: str = "elements",
                 seed_scale: float = 1.0) -> list[PairComparison]:
    """Several pairs on one leaf at once: row r of ``a`` (shape [pairs, *leaf shape]) against row r
    of ``b`` under ``tols[r]``. One numpy pass for all rows (a leaf's pairs are small arrays, where
    the cost is in the calls, not the elements). Non-finite pairs are counted and left out."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    shape, rows = a.shape[1:], len(pairs)
    a2, b2 = a.reshape(rows, -1), b.reshape(rows, -1)
    finite = np.isfinite(a2) & np.isfinite(b2)
    all_finite = bool(finite.all())
    non_finite = [0] * rows if all_finite else (a2.shape[1] - np.count_nonzero(finite, axis=1)).tolist()
    if not all_finite:
        a2, b2 = np.where(finite, a2, 0.0), np.where(finite, b2, 0.0)  # only finite pairs count
    rtol, atol, floor = _tolerance_columns(tuple(tols))
    diff = np.abs(a2 - b2)
    bigger = np.maximum(np.abs(a2), np.abs(b2))
    allowed = atol * bigger.max(axis=1, keepdims=True, initial=0.0)  # atol * scale, per row
    bad = diff > rtol * bigger + (allowed + floor * seed_scale)
    results = [PairComparison(pair, AGREE, tol, total=a2.shape[1], unit=unit, non_finite=n)
               for pair, tol, n in zip(pairs, tols, non_finite)]
    if a2.shape[1]:
        rel = diff / np.maximum(bigger, REL_FLOOR + allowed)
        ranked = rel if all_finite else np.where(finite, rel, -1.0)  # a non-finite pair is never the worst
        _fill_figures(results, shape, a2, b2, (diff, rel, ulp_distance(a2, b2, dtype)), ranked)
    for r in np.flatnonzero(bad.any(axis=1)).tolist():
        row_a, row_b, row_bad = (x[r].reshape(shape) for x in (a2, b2, bad))
        _count_bad(results[r], np.argwhere(row_bad), row_a, row_b, kinks[r] if kinks else None)
    for result in results:
        result.verdict = _verdict(result)
    return results


@functools.lru_cache(maxsize=64)
def _tolerance_columns(tols: tuple[Tolerance, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rtol, atol and floor of each row, as [rows, 1] columns."""
    rtol, atol, floor = (np.array([[getattr(t, f)] for t in tols]) for f in ("rtol", "atol", "floor"))
    return rtol, atol, floor


def _count_bad(result: PairComparison, where: np.ndarray, a: np.ndarray, b: np.ndarray,
               kink: KinkTest | None) -> None:
    for index in where:
        key = tuple(int(k) for k in index)
        if kink is not None and kink(key, float(a[key]), float(b[key])):
            result.kinks += 1
        else:
            result.mismatched += 1


def _fill_figures(results: list[PairComparison], shape: tuple[int, ...], a: np.ndarray, b: np.ndarray,
                  figures: tuple[np.ndarray, np.ndarray, np.ndarray], ranked: np.ndarray) -> None:
    """Largest abs, rel and ULP differences per row, and its worst element by ``ranked`` (non-finite
    pairs arrive zeroed and ranked -1, so they add nothing); a row with no finite pair keeps none."""
    worst = ranked.argmax(axis=1).tolist()
    maxima = zip(*(f.max(axis=1).tolist() for f in figures))
    for r, (result, at, (max_abs, max_rel, max_ulp)) in enumerate(zip(results, worst, maxima)):
        if result.non_finite < result.total:
            result.max_abs, result.max_rel, result.max_ulp = max_abs, max_rel, max_ulp
            result.worst_index = _unravel(at, shape)
            result.worst_values = (float(a[r, at]), float(b[r, at]))


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        flat, k = divmod(flat, size)
        index.append(k)
    return tuple(reversed(index))


def _verdict(result: PairComparison) -> str:
    if result.mismatched:
        return MISMATCH
    if result.non_finite:
        return NON_FINITE
    return CONVENTION if result.kinks else AGREE
