"""Element-by-element comparison of two witnesses on one leaf, under the tolerance policy."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tolerance import REL_FLOOR, Tolerance

AGREE, MISMATCH, CONVENTION, NON_FINITE, SKIPPED = "agree", "mismatch", "convention", "non_finite", "skipped"
UNRESOLVED = "unresolved"  # within rounding noise of its own computation only: neither confirmed nor refuted
SEVERITY = {MISMATCH: 5, NON_FINITE: 4, UNRESOLVED: 3, CONVENTION: 2, AGREE: 1, SKIPPED: 0}

MAX_LISTED = 1_000  # mismatched elements kept as data per pair (the count is always exact)
FEW_LEAVES = 8  # up to this many leaves, a leaf's argmax is a slice's (cheaper than fancy indexing)
SLICED_LEAF = 4096  # a leaf this large takes a slice's argmax anyway (fancy indexing would copy it)

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
    unresolved: int = 0  # within the floor only: differences rounding of the terms could explain
    conditioned: int = 0  # within tolerance only thanks to the forward-rounding allowance (not on the wire)
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulp: float = 0.0
    worst_index: tuple[int, ...] | None = None  # the worst mismatched element (else the largest rel diff)
    worst_values: tuple[float, float] | None = None
    unit: str = "elements"  # or "directions" for directional finite differences
    reason: str = ""
    max_abs_index: tuple[int, ...] | None = None  # where max_abs is
    # Every mismatched element (up to MAX_LISTED), worst first: index and (a, b, |a-b| / allowed).
    mismatched_indices: list[tuple[int, ...]] = field(default_factory=list)
    mismatched_values: list[tuple[float, float, float]] = field(default_factory=list)


def worst(verdicts: list[str]) -> str:
    """The most severe verdict (skipped when nothing was compared)."""
    return max(verdicts, key=SEVERITY.__getitem__, default=SKIPPED)


# leaf dtype -> (float type, same-width integer type, that integer type's largest value, sign shift)
_BITS = {"float32": (np.float32, np.int32, 2**31 - 1, 31), "float64": (np.float64, np.int64, 2**63 - 1, 63)}


def _ordered_bits(x: np.ndarray, dtype: str) -> np.ndarray:
    """The values' bit patterns as int64, reordered so that integer order is float order
    (-0.0 and 0.0 meet): a negative value's pattern becomes minus its magnitude bits (arithmetic
    only: numpy's where is several times slower on these sizes)."""
    float_type, int_type, top, shift = _BITS["float32" if dtype == "float32" else "float64"]
    i = np.asarray(x, float_type).view(int_type)
    sign = i >> shift  # -1 for a negative value, else 0
    return ((i ^ (sign & top)) - sign).astype(np.int64, copy=False)


def _ulps_between(oa: np.ndarray, ob: np.ndarray) -> np.ndarray:
    """The larger ordered pattern minus the smaller, as unsigned 64-bit (exact where float64
    would round above 2^53), converted to float64."""
    flip = (oa < ob).view(np.uint8).astype(np.uint64)
    d = ((oa - ob).view(np.uint64) ^ (np.uint64(0) - flip)) + flip  # |oa - ob| modulo 2**64
    out = d.view(np.int64).astype(np.float64)  # int64 converts fast; distances of 2**63 and more wrap
    wrapped = out < 0
    if wrapped.any():
        out[wrapped] = d[wrapped].astype(np.float64)
    return out


def ulp_distance(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    """How many representable ``dtype`` values lie between a and b (as floats)."""
    oa, ob = _ordered_bits(a, dtype), _ordered_bits(b, dtype)
    if dtype == "float32":  # 32-bit patterns: |oa - ob| < 2^32, exact in int64 and float64
        return np.abs(np.subtract(oa, ob, out=oa), out=oa).astype(np.float64)
    return _ulps_between(oa, ob)


def compare(pair: tuple[str, str], a: np.ndarray, b: np.ndarray, dtype: str, tol: Tolerance,
            kink: KinkTest | None = None, unit: str = "elements", seed_scale: float = 1.0) -> PairComparison:
    """One pair of witnesses on one leaf (see :func:`compare_rows`)."""
    return compare_rows([pair], np.asarray(a)[None], np.asarray(b)[None], dtype, [tol], [kink], unit,
                        seed_scale)[0]


@np.errstate(all="ignore")
def agrees(a: np.ndarray, b: np.ndarray, tol: Tolerance, seed_scale: float = 1.0) -> bool:
    """Whether ``compare(pair, a, b, dtype, tol, seed_scale=seed_scale).verdict`` is agree
    (no kink test, no magnitudes): every pair of values finite and within the tolerance. The
    verdict alone, without the report's figures (the screen asks it of every leaf)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not a.size:
        return True
    diff = np.abs(a - b)
    if not np.isfinite(diff).all():  # (a non-finite value, or inf - inf)
        return False
    bigger = np.maximum(np.abs(a), np.abs(b))
    limit = tol.rtol * bigger + tol.atol * bigger.max()  # (compare_leaves's order of operations)
    limit += tol.floor * seed_scale
    return not bool((diff > limit).any())


def compare_rows(pairs: list[tuple[str, str]], a: np.ndarray, b: np.ndarray, dtype: str,
                 tols: list[Tolerance], kinks: list[KinkTest | None] | None = None, unit: str = "elements",
                 seed_scale: float = 1.0) -> list[PairComparison]:
    """Several pairs on one leaf: row r of ``a`` (shape [pairs, *leaf shape]) against row r of ``b``
    under ``tols[r]`` (see :func:`compare_leaves`)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rows = len(pairs)
    found = compare_leaves(pairs, a.reshape(rows, -1), b.reshape(rows, -1), [a.shape[1:]], dtype, tols,
                           [[k] for k in kinks] if kinks else None, unit, seed_scale)
    return [row[0] for row in found]


@np.errstate(all="ignore")
def compare_leaves(pairs: list[tuple[str, str]], a: np.ndarray, b: np.ndarray, shapes: list[tuple[int, ...]],
                   dtype: str, tols: list[Tolerance], kinks: list[list[KinkTest | None]] | None = None,
                   unit: str = "elements", seed_scale: float = 1.0,
                   floor_scales: Callable[[], list[float]] | None = None,
                   rounding: Callable[[], np.ndarray] | None = None) -> list[list[PairComparison]]:
    """Several pairs on several leaves of one dtype in one numpy pass (small arrays cost calls,
    not elements). ``a`` and ``b`` are [pairs, elements] with the leaves' flattened elements side
    by side; row r of ``a`` is compared with row r of ``b`` under ``tols[r]``, each leaf on its
    own scale. Returns [pair][leaf]. Non-finite pairs of values are counted and left out.

    The floor is scaled by ``floor_scales()`` (per leaf: the size of the terms its gradient is
    computed from, engine/magnitudes.py), asked for only when some difference is beyond the rest
    of the tolerance; without it, by ``seed_scale``. Elements whose every value lies within that
    noise are counted ``unresolved`` (see :func:`_below_noise`). ``rounding()`` (asked for only when
    a difference is beyond the floor too): per element, how far forward rounding can move a
    float-computed gradient (engine/forward_rounding.py), added to the noise of pairs with such a
    witness (numeric, claimed)."""
    sizes = [math.prod(shape) for shape in shapes]
    starts = list(itertools.accumulate([0] + sizes[:-1]))
    finite = np.isfinite(a) & np.isfinite(b)
    all_finite = bool(finite.all())
    if not all_finite:
        a, b = np.where(finite, a, 0.0), np.where(finite, b, 0.0)  # only finite pairs count
    non_finite = [[0] * len(sizes)] * len(pairs) if all_finite else \
        _per_leaf(np.add, ~finite, starts, sizes, 0).tolist()
    rtol, atol, floor = _tolerance_columns(tuple(tols))
    diff = np.abs(a - b)
    bigger = np.maximum(np.abs(a), np.abs(b))
    scale = _per_leaf(np.maximum, bigger, starts, sizes, 0.0)
    allowed = atol * (scale if len(sizes) == 1 else scale.repeat(sizes, axis=1))  # atol * the leaf's scale
    limit = rtol * bigger + allowed
    noise: list[list[int]] | None = None
    magnitudes: list[float] = []
    conditioned = False
    if floor_scales is not None and (diff > limit).any():
        magnitudes = [float(m) for m in floor_scales()]
        noise_floor = floor * np.repeat(np.asarray(magnitudes, np.float64), sizes)
        strict_limit = limit + noise_floor  # without the forward-rounding allowance
        conditioned = rounding is not None and bool((diff > strict_limit).any())
        if conditioned:
            noise_floor = noise_floor + _rounding_noise(pairs, rounding)  # type: ignore[arg-type]
        unresolved = _below_noise(pairs, a, b, diff, limit, noise_floor, finite)
        if conditioned:  # values only the rounding allowance joins, both within it: unresolved in that pair
            unresolved = unresolved | ((diff > strict_limit) & (diff <= limit + noise_floor)
                                       & (bigger <= noise_floor - (strict_limit - limit)))
        limit = limit + noise_floor
        noise = _per_leaf(np.add, np.broadcast_to(unresolved, diff.shape), starts, sizes, 0).tolist()
    elif floor_scales is None:
        limit = limit + floor * seed_scale
    bad = diff > limit
    results = [[PairComparison(pair, AGREE, tol, total=size, unit=unit, non_finite=n) for size, n in zip(sizes, row)]
               for pair, tol, row in zip(pairs, tols, non_finite)]
    if noise is not None:
        _mark_noise(results, noise, magnitudes)
        if conditioned:
            _mark_conditioned(results, diff > strict_limit, bad, starts, sizes)
    rel = diff / np.maximum(bigger, REL_FLOOR + allowed)
    ranked = rel if all_finite else np.where(finite, rel, -1.0)  # a non-finite pair is never the worst
    maxima = [_per_leaf(np.maximum, x, starts, sizes, 0.0).tolist() for x in (diff, rel, ulp_distance(a, b, dtype))]
    bad_leaves = _per_leaf(np.logical_or, bad, starts, sizes, False).tolist()
    worst_at, largest_at = _segment_argmax(ranked, starts, sizes), _segment_argmax(diff, starts, sizes)
    columns = np.minimum(worst_at + np.asarray(starts, np.int64), max(a.shape[1] - 1, 0))  # an empty leaf: unread
    rows = np.arange(a.shape[0])[:, None]  # (take_along_axis costs several times this indexing)
    worsts = [x[rows, columns].tolist() if x.shape[1] else np.zeros(columns.shape).tolist() for x in (a, b)]
    worst_at, largest_at = worst_at.tolist(), largest_at.tolist()
    for leaf, (start, size, shape) in enumerate(zip(starts, sizes, shapes)):
        if not size:
            continue
        for r, row in enumerate(results):
            _fill_figures(row[leaf], [m[r][leaf] for m in maxima], shape, worst_at[r][leaf],
                          worsts[0][r][leaf], worsts[1][r][leaf])
            if row[leaf].non_finite < size:
                row[leaf].max_abs_index = _unravel(largest_at[r][leaf], shape)
            if bad_leaves[r][leaf]:
                at = slice(start, start + size)
                excess = diff[r, at] / np.maximum(limit[r, at], REL_FLOOR)
                _count_bad(row[leaf], np.flatnonzero(bad[r, at]), shape, a[r, at], b[r, at], excess,
                           kinks[r][leaf] if kinks else None)
    for row in results:
        for result in row:
            result.verdict = pair_verdict(result)
    return results


def _below_noise(pairs: list[tuple[str, str]], a: np.ndarray, b: np.ndarray, diff: np.ndarray,
                 strict: np.ndarray, noise_floor: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Elements that pass only thanks to the floor and that no pair resolves: in every pair both
    values lie within the rounding noise of the terms the gradient is computed from. A structural
    zero (every witness but finite differences exactly 0) is resolved exactly."""
    nonzero = np.zeros(a.shape[1], bool)
    for row, pair in enumerate(pairs):
        for witness, values in zip(pair, (a, b)):
            if witness != "finite_difference":
                nonzero |= values[row] != 0
    within = diff <= strict + noise_floor
    needed_floor = ((diff > strict) & within & finite).any(axis=0)
    noisy = ((np.maximum(np.abs(a), np.abs(b)) <= noise_floor) & within) | ~finite  # non-finite: judged elsewhere
    return noisy.all(axis=0) & needed_floor & nonzero


ROUNDED_WITNESSES = ("numeric", "claimed")  # gradients computed from float-rounded forward values


def _rounding_noise(pairs: list[tuple[str, str]], rounding: Callable[[], np.ndarray]) -> np.ndarray:
    """[pairs, elements]: the forward-rounding allowance, for pairs with a float-computed witness."""
    from .forward_rounding import SPREAD_FACTOR

    spread = SPREAD_FACTOR * np.asarray(rounding(), np.float64)[None, :]
    rows = np.array([[any(w in ROUNDED_WITNESSES for w in pair)] for pair in pairs])
    return np.where(rows, spread, 0.0)


def _mark_conditioned(results: list[list[PairComparison]], over: np.ndarray, bad: np.ndarray,
                      starts: list[int], sizes: list[int]) -> None:
    """Say where only the forward-rounding allowance made elements agree."""
    counts = _per_leaf(np.add, over & ~bad, starts, sizes, 0).tolist()
    for row, row_counts in zip(results, counts):
        for result, count in zip(row, row_counts):
            result.conditioned = int(count)
            if count:
                note = (f"{count} of {result.total} elements agree only within the forward pass's rounding "
                        "(an ill-conditioned graph: large terms cancel on the way)")
                result.reason = f"{result.reason}; {note}" if result.reason else note


def _mark_noise(results: list[list[PairComparison]], noise: list[list[int]], magnitudes: list[float]) -> None:
    """Count the elements at the rounding-noise level in every pair, and say so."""
    for row, counts in zip(results, noise):
        for result, count, magnitude in zip(row, counts, magnitudes):
            result.unresolved = int(count)
            if count:
                result.reason = (f"{count} of {result.total} elements at the rounding-noise level: every witness "
                                 f"is within what rounding of terms up to {magnitude:.3g} could produce, so "
                                 "none resolves them")


def _per_leaf(ufunc: np.ufunc, x: np.ndarray, starts: list[int], sizes: list[int], empty: Any) -> np.ndarray:
    """``ufunc`` reduced over each leaf's columns: [rows, leaves] (``empty`` for a leaf without elements)."""
    if all(sizes):
        return ufunc.reduceat(x, starts, axis=1)
    out = np.full((x.shape[0], len(sizes)), empty, dtype=x.dtype)
    present = [k for k, size in enumerate(sizes) if size]
    if present:
        out[:, present] = ufunc.reduceat(x, [starts[k] for k in present], axis=1)
    return out


def _segment_argmax(x: np.ndarray, starts: list[int], sizes: list[int]) -> np.ndarray:
    """[rows, leaves]: where each leaf's columns are largest (the first such; 0 for a leaf
    without elements): a few leaves one slice each, many the leaves of one size in one call."""
    out = np.zeros((x.shape[0], len(sizes)), np.int64)
    few = len(sizes) <= FEW_LEAVES
    by_size: dict[int, list[int]] = {}
    for k, (start, size) in enumerate(zip(starts, sizes)):
        if size and (few or size >= SLICED_LEAF):
            out[:, k] = x[:, start:start + size].argmax(axis=1)
        elif size:
            by_size.setdefault(size, []).append(k)
    for size, leaves in by_size.items():
        columns = np.asarray([starts[k] for k in leaves])[:, None] + np.arange(size)
        out[:, leaves] = x[:, columns].argmax(axis=2)
    return out


@functools.lru_cache(maxsize=64)
def _tolerance_columns(tols: tuple[Tolerance, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rtol, atol and floor of each row, as [rows, 1] columns."""
    rtol, atol, floor = (np.array([[getattr(t, f)] for t in tols]) for f in ("rtol", "atol", "floor"))
    return rtol, atol, floor


def _count_bad(result: PairComparison, where: np.ndarray, shape: tuple[int, ...], a: np.ndarray, b: np.ndarray,
               excess: np.ndarray, kink: KinkTest | None) -> None:
    """Over-tolerance elements (flat positions ``where``): kinks, or mismatches listed worst first;
    the worst mismatch becomes the pair's worst element."""
    wrong = []
    for flat in where.tolist():
        key = _unravel(flat, shape)
        if kink is not None and kink(key, float(a[flat]), float(b[flat])):
            result.kinks += 1
        else:
            wrong.append(flat)
    result.mismatched += len(wrong)
    if not wrong:
        return
    order = sorted(wrong, key=lambda k: -excess[k])[:MAX_LISTED]
    result.mismatched_indices = [_unravel(k, shape) for k in order]
    result.mismatched_values = [(float(a[k]), float(b[k]), float(excess[k])) for k in order]
    result.worst_index, result.worst_values = result.mismatched_indices[0], result.mismatched_values[0][:2]


def _fill_figures(result: PairComparison, maxima: list[float], shape: tuple[int, ...], worst: int,
                  a_at: float, b_at: float) -> None:
    """Largest abs, rel and ULP differences, and the worst element (non-finite pairs arrive zeroed
    and ranked lowest, so they add nothing); a result with no finite pair keeps none."""
    if result.non_finite < result.total:
        result.max_abs, result.max_rel, result.max_ulp = maxima
        result.worst_index = _unravel(worst, shape)
        result.worst_values = (float(a_at), float(b_at))


@functools.lru_cache(maxsize=4096)
def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    rank = len(shape)
    if rank == 2:  # the common cases without the loop (called per pair and leaf)
        return divmod(flat, shape[1])
    if rank == 1:
        return (flat,)
    index = []
    for size in reversed(shape):
        flat, k = divmod(flat, size)
        index.append(k)
    return tuple(reversed(index))


def pair_verdict(result: PairComparison) -> str:
    """The pair's verdict from its counts (mismatch > non_finite > unresolved > convention > agree)."""
    if result.mismatched:
        return MISMATCH
    if result.non_finite:
        return NON_FINITE
    if result.unresolved:
        return UNRESOLVED
    return CONVENTION if result.kinks else AGREE
