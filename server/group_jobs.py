"""A worker's job for a group of requests of one structure (a CheckStream batch).

The first job of a structure carries the pickled plans (PLANS); later ones only every request's
leaf values and seed (MANY, leafbuf.pack_many). The answer is each request's gradients, or its
own error text in its place, so one bad request does not fail its group.
"""

from __future__ import annotations

import pickle
import time
from typing import Any, cast

import numpy as np
from crossgrad.engine.graph import Plan

from . import leafbuf


def run_many(known: leafbuf.Known, first: dict[str, float], message: bytes) -> tuple[list[Any], float]:
    """A group's job (one structure, many requests): each request's gradients, or its own error
    text in its place; and the structure's first-run seconds."""
    from crossgrad.engine.symbolic import exact, tensor

    key, items, tier = _many_job(known, message)
    run = exact.gradients if tier == "exact" else tensor.gradients
    results: list[Any] = []
    for plan, seed in items:
        started = time.perf_counter()
        try:
            results.append(run(plan, seed)[0])
        except Exception as err:  # this request's own failure; the others still run
            results.append(f"{type(err).__name__}: {err}")
        first.setdefault(key, time.perf_counter() - started)
    return results, first[key]


def _many_job(known: leafbuf.Known, message: bytes) -> tuple[str, list[tuple[Plan, np.ndarray]], str]:
    """(key, [(plan, seed)], tier) from a PLANS or MANY message."""
    if message[:1] == leafbuf.PLANS:
        key, plans, seeds, tier = pickle.loads(message[1:])
        known.put(key, (leafbuf.skeleton(plans[0]), seeds[0].dtype, tier))
        return key, list(zip(plans, seeds)), tier
    key, data = leafbuf.split_key(message)
    entry = known.get(key)
    if entry is None:
        raise LookupError(f"structure {key} is not known to this worker")
    skeleton, seed_dtype, tier = cast(tuple[Plan, np.dtype, str], entry)
    return key, leafbuf.unpack_many(skeleton, seed_dtype, data), tier
