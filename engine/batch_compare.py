"""The comparisons of many checks in one pass (a batch of requests of one structure).

``check`` compares the leaves of one request that share a dtype, a unit and a set of pairs in
one ``compare_leaves`` call; here those leaves of every request of a batch go into the same
call (its members are (request, leaf)), so a batch pays numpy's per-call cost once, not once per
request. Each member's figures depend only on its own values, its tolerance and its request's
seed scale (part of the grouping), and the tolerance floor's magnitudes are asked per member,
so every comparison equals the one the request would get alone. A request with values on a kink
(its kink tests need its own forward values) is compared alone, as ``check`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .check import PAIRS, Checking, Row, _leaf_reports, _side_by_side, leaf_groups
from .compare import PairComparison, compare_leaves
from .forward_rounding import Spreads
from .magnitudes import flowing_magnitudes
from .report import LeafReport, finish_leaf
from .tolerance import policy

Member = tuple[int, int, list[Row]]  # (request in the batch, leaf, its rows)


def leaf_reports_many(checks: Sequence[Checking]) -> list[list[LeafReport]]:
    """Each check's leaf reports, as ``check``'s own comparisons would give them."""
    if len(checks) > 1 and _uniform(checks):
        return _uniform_reports(checks)
    out: list[list[LeafReport] | None] = [None] * len(checks)
    entries: list[dict[int, LeafReport]] = [{} for _ in checks]
    found: list[dict[tuple[int, tuple[str, str]], PairComparison]] = [{} for _ in checks]
    groups: dict[tuple, list[Member]] = {}
    for n, c in enumerate(checks):
        if c.kink_values is not None:
            out[n] = _leaf_reports(c.request, c.plan, c.seed, c.grads, c.fd, c.kink_values, c.report.failures)
            continue
        _collect(n, c, entries[n], found[n], groups)
    magnitudes = _Magnitudes(checks)
    for key, members in groups.items():
        for row in _compare(key, members, magnitudes):
            for (n, leaf, _), result in zip(members, row):
                found[n][(leaf, result.witnesses)] = result
    for n, leaves in enumerate(entries):
        if out[n] is None:
            for leaf, entry in leaves.items():
                entry.pairs = [found[n][(leaf, pair)] for pair in PAIRS if (leaf, pair) in found[n]]
                finish_leaf(entry)
            out[n] = list(leaves.values())
    return [x if x is not None else [] for x in out]


def _collect(n: int, c: Checking, entries: dict[int, LeafReport], found: dict,
             groups: dict[tuple, list[Member]]) -> None:
    """Check ``n``'s leaves and rows (check.leaf_groups, as a lone check groups them) into
    ``groups``, whose key adds what may differ between requests: tolerance and seed scale."""
    scales = {"elements": float(np.abs(c.seed).max(initial=0.0)), "directions": getattr(c.fd, "seed_scale", 1.0)}
    own, own_groups = leaf_groups(c.plan, c.grads, c.fd, found, c.report.failures)
    entries.update(own)
    for (unit, dtype, pairs), members in own_groups.items():
        key = (unit, dtype, pairs, c.request.tolerance, scales[unit])
        groups.setdefault(key, []).extend((n, leaf, rows) for leaf, rows in members)


def _signature(c: Checking) -> tuple:
    grads = tuple((w, tuple((leaf, np.shape(g), getattr(g, "dtype", None)) for leaf, g in by_leaf.items()))
                  for w, by_leaf in c.grads.items())
    return c.fd is None, c.request.tolerance, grads


def _uniform(checks: Sequence[Checking]) -> bool:
    """Every check has gradients from the same witnesses of the same leaves, shapes and dtypes,
    no witness failure, no value on a kink and element-wise finite differences (or none): the
    first check's grouping of leaves and pairs (check.leaf_groups) is then every check's."""
    if checks[0].fd is not None and checks[0].fd.mode != "per_element":
        return False
    first = _signature(checks[0])
    return all(c.kink_values is None and not c.report.failures and _signature(c) == first for c in checks)


def _uniform_reports(checks: Sequence[Checking]) -> list[list[LeafReport]]:
    """``leaf_reports_many`` of uniform checks: the first one's leaf_groups for all, each group's
    values stacked per witness and leaf (members leaf by leaf, then request by request)."""
    c0 = checks[0]
    skipped: dict[tuple[int, tuple[str, str]], PairComparison] = {}
    entries0, groups0 = leaf_groups(c0.plan, c0.grads, c0.fd, skipped, c0.report.failures)
    found = [{k: replace(v) for k, v in skipped.items()} for _ in checks]
    entries = [{leaf: LeafReport(e.name, e.shape, e.dtype, {w: g[leaf] for w, g in c.grads.items() if leaf in g}, [])
                for leaf, e in entries0.items()} for c in checks]
    buckets: dict[float, list[int]] = {}  # requests by their seed's scale (part of each comparison)
    for n, c in enumerate(checks):
        buckets.setdefault(float(np.abs(c.seed).max(initial=0.0)), []).append(n)
    magnitudes = _Magnitudes(checks)
    for (unit, dtype, pairs), members0 in groups0.items():
        own_rounding = unit == "elements" and c0.request.tolerance is None  # an override is the whole tolerance
        leaves = [leaf for leaf, _ in members0]
        tols = [policy(dtype, pair, c0.request.tolerance) for pair in pairs]
        for scale, ns in buckets.items():
            members = [(n, leaf) for leaf in leaves for n in ns]
            a, b = (_stacked(checks, ns, leaves, [pair[side] for pair in pairs]) for side in (0, 1))
            shapes = [c0.plan.shapes[leaf] for _, leaf in members]
            floors = lambda members=members: [magnitudes(n, leaf) for n, leaf in members]  # noqa: E731
            rounding = lambda members=members: magnitudes.spread(members)  # noqa: E731
            for pair, row in zip(pairs, compare_leaves(list(pairs), a, b, shapes, dtype, tols, None, unit, scale,
                                                       floors, rounding if own_rounding else None)):
                for (n, leaf), result in zip(members, row):
                    found[n][(leaf, pair)] = result
    for n, leaves_of in enumerate(entries):
        for leaf, entry in leaves_of.items():
            entry.pairs = [found[n][(leaf, pair)] for pair in PAIRS if (leaf, pair) in found[n]]
            finish_leaf(entry)
    return [list(e.values()) for e in entries]


def _stacked(checks: Sequence[Checking], ns: list[int], leaves: list[int], witnesses: list[str]) -> np.ndarray:
    """[pairs, elements]: row r holds witness r's gradient of every leaf in turn, each leaf's
    values request by request (requests ``ns``), in float64."""
    rows = []
    for w in witnesses:
        rows.append(np.concatenate([np.stack([checks[n].grads[w][leaf] for n in ns]).reshape(-1) for leaf in leaves]))
    return np.array(rows, np.float64)


class _Magnitudes:
    """Per check, flowing_magnitudes computed once and only when a floor is needed."""

    def __init__(self, checks: Sequence[Checking]) -> None:
        self.checks = checks
        self.found: dict[int, dict[int, float]] = {}
        self.spreads = [Spreads(c.plan, c.seed) for c in checks]

    def spread(self, members: Sequence[tuple[int, int]]) -> np.ndarray:
        """The forward-rounding spreads of (request, leaf) members, flat, side by side."""
        return np.concatenate([self.spreads[n](leaf).ravel() for n, leaf in members])

    def __call__(self, n: int, leaf: int) -> float:
        if n not in self.found:
            self.found[n] = flowing_magnitudes(self.checks[n].plan, self.checks[n].seed)
        return self.found[n].get(leaf, 0.0)


def _compare(key: tuple, members: list[Member], magnitudes: _Magnitudes) -> list[list[Any]]:
    """[pair][member] comparisons of one group, as check._compare_group makes them."""
    unit, dtype, pairs, tolerance, seed_scale = key
    tols = [policy(dtype, pair, tolerance) for pair in pairs]
    rows = [(leaf, r) for _, leaf, r in members]
    shapes = [np.shape(r[0][1]) for _, r in rows]
    floors = None if unit != "elements" else lambda: [magnitudes(n, leaf) for n, leaf, _ in members]
    rounding = None if unit != "elements" or tolerance is not None else \
        lambda: magnitudes.spread([(n, leaf) for n, leaf, _ in members])
    return compare_leaves(list(pairs), _side_by_side(rows, 1), _side_by_side(rows, 2), shapes, dtype, tols, None,
                          unit, seed_scale, floors, rounding)
