"""The exact tier for many requests of one structure (a CheckStream batch's symbolic job).

Request r is ``plan`` with leaf i's value ``stacks[i][r]`` and seed ``seeds[r]``. Every value of
every request is converted to mpmath's raw form in one numpy pass (per request, numpy's per-call
cost dominated the conversion of the seed graph's 27 values), then each request is evaluated by
``exact.evaluate`` exactly as ``exact.gradients`` evaluates it alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..graph import Plan
from . import exact


def gradients_many(plan: Plan, stacks: dict[int, np.ndarray], seeds: np.ndarray) -> Iterator[dict | Exception]:
    """Each request's ``exact.gradients`` (its exception in its place when it fails), in order."""
    programs = exact.compile_plan(plan)
    count = len(seeds)
    leaves = exact.read_leaves(plan, programs)
    parts = [np.asarray(stacks[i], np.float64).reshape(count, -1) for i in leaves]
    parts.append(np.asarray(seeds, np.float64).reshape(count, -1))
    flat = np.concatenate(parts, axis=1)
    width = flat.shape[1]
    converted = exact._mpfs(flat) if np.isfinite(flat).all() else None  # else per request, as alone
    for r in range(count):
        try:
            row = converted[r * width:(r + 1) * width] if converted is not None else exact._mpfs(flat[r])
            yield exact.evaluate(plan, programs, *_split(plan, leaves, parts, row))
        except Exception as err:  # noqa: BLE001  (this request's own failure; the others still run)
            yield err


def _split(plan: Plan, leaves: list[int], parts: list[np.ndarray], row: list[Any]) -> tuple[list[Any], list[Any]]:
    """Per-node raw values (None for unread leaves) and the seed's, from one request's row."""
    values: list[Any] = [None] * len(plan.graph.nodes)
    start = 0
    for i, part in zip(leaves, parts):
        values[i], start = row[start:start + part.shape[1]], start + part.shape[1]
    return values, row[start:]
