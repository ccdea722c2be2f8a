"""A worker's job for a group of requests of one structure (a CheckStream batch).

The first job of a structure carries the pickled plans (PLANS); later ones only every request's
leaf values and seed (MANY, leafbuf.pack_many). The answer is each request's gradients, or its
own error text in its place, so one bad request does not fail its group.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from crossgrad.engine.check import WitnessTimeout
from crossgrad.engine.graph import Leaf, Plan

from . import leafbuf

PART = 32  # the worker sends its answers this many requests at a time


def run_many(known: leafbuf.Known, first: dict[str, float], message: bytes, send: Callable[[Any], None]) -> None:
    """A group's job (one structure, many requests): each request's gradients, or its own error
    text in its place, sent PART at a time as ("part", answers) and last ("ok", (answers, the
    structure's first-run seconds)), so the server compares the first requests while the worker
    computes the next. The exact tier converts every request's values at once (exact_many)."""
    from crossgrad.engine.symbolic import exact_many

    key, plan, stacks, seeds, tier = _many_job(known, message)
    answers = exact_many.gradients_many(plan, stacks, seeds) if tier == "exact" else _one_by_one(plan, stacks, seeds)
    results: list[Any] = []
    started = time.perf_counter()
    for k, found in enumerate(answers):
        results.append(f"{type(found).__name__}: {found}" if isinstance(found, Exception) else found)
        first.setdefault(key, time.perf_counter() - started)
        if len(results) == PART and k + 1 < len(seeds):
            send(("part", results))
            results = []
    send(("ok", (results, first[key])))


def _one_by_one(plan: Plan, stacks: dict[int, np.ndarray], seeds: np.ndarray) -> Iterator[Any]:
    """The tensor tier, request by request (its exception in its place)."""
    from crossgrad.engine.symbolic import tensor

    for r in range(len(seeds)):
        try:
            yield tensor.gradients(leafbuf.with_values(plan, {i: s[r] for i, s in stacks.items()}), seeds[r])[0]
        except Exception as err:  # noqa: BLE001  (this request's own failure; the others still run)
            yield err


class GroupAnswers:
    """The answers of a group's job as they arrive: ``get(n)`` waits for request n's gradients
    (a WitnessTimeout instance in its place when its own run failed) and raises WitnessTimeout
    when the job failed, the worker died or the deadline passed (the worker is then replaced);
    ``finish()`` reads the rest, so the worker returns to the pool."""

    def __init__(self, pool: Any, worker: Any, deadline: float, alive: Callable[[], bool], structure: str,
                 tier: str) -> None:
        self.pool, self.worker, self.deadline, self.alive = pool, worker, deadline, alive
        self.structure, self.tier = structure, tier
        self.found: list[Any] = []
        self.done = False
        self.failure: WitnessTimeout | None = None

    def get(self, n: int) -> Any:
        while len(self.found) <= n and not self.done:
            self._read()
        if n < len(self.found):
            return self.found[n]
        raise self.failure or WitnessTimeout("symbolic witness failed: no answer for this request")

    def finish(self) -> None:
        while not self.done:
            self._read()

    def _read(self) -> None:
        worker = self.worker
        try:
            status, payload = self.pool.answer(worker, self.deadline, self.alive)
        except WitnessTimeout as err:  # the worker has been replaced
            self.done = True
            self.failure = err
            return
        if status == "part":
            self._add(payload)
            return
        self.pool._release(worker)
        self.done = True
        if status != "ok":
            self.failure = WitnessTimeout(f"symbolic witness failed: {payload}")
            return
        answers, first_run = payload
        self._add(answers)
        if self.tier == "exact":
            self.pool._prove(self.structure, first_run)

    def _add(self, answers: list[Any]) -> None:
        self.found += [WitnessTimeout(f"symbolic witness failed: {g}") if isinstance(g, str) else g for g in answers]


def _many_job(known: leafbuf.Known, message: bytes) -> tuple[str, Plan, dict[int, np.ndarray], np.ndarray, str]:
    """(key, a plan of the structure, every leaf's values [requests, *shape], the seeds, tier)
    from a PLANS or MANY message."""
    if message[:1] == leafbuf.PLANS:
        key, plans, seeds, tier = pickle.loads(message[1:])
        known.put(key, (leafbuf.skeleton(plans[0]), seeds[0].dtype, tier))
        stacks = {i: np.stack([np.asarray(p.graph.nodes[i].value) for p in plans])
                  for i, node in enumerate(plans[0].graph.nodes) if isinstance(node, Leaf)}
        return key, plans[0], stacks, np.stack(seeds), tier
    key, data, skeleton, seed_dtype, tier = known.structure(message)
    stacks, seeds = leafbuf.unpack_stacks(skeleton, seed_dtype, data)
    return key, skeleton, stacks, seeds, tier


class InlineAnswers:
    """A proven small structure's group job in the calling thread (as a lone check of it runs
    inline): request n's exact-tier gradients computed when first asked for, every request's
    values converted at once (exact_many); a request's failure in its place, worded as a worker's."""

    def __init__(self, plans: list[Plan], seeds: list[np.ndarray]) -> None:
        from crossgrad.engine.symbolic import exact_many

        stacks = {i: np.stack([np.asarray(p.graph.nodes[i].value) for p in plans])
                  for i, node in enumerate(plans[0].graph.nodes) if isinstance(node, Leaf)}
        self.answers = exact_many.gradients_many(plans[0], stacks, np.stack(seeds))
        self.found: list[Any] = []

    def get(self, n: int) -> Any:
        while len(self.found) <= n:
            found = next(self.answers)
            self.found.append(WitnessTimeout(f"symbolic witness failed: {type(found).__name__}: {found}")
                              if isinstance(found, Exception) else found)
        return self.found[n]

    def finish(self) -> None:
        """Nothing to give back (no worker)."""


class SplitAnswers:
    """A group's job in two halves on two workers: requests [0, cut) and [cut, n)."""

    def __init__(self, first: GroupAnswers, second: GroupAnswers, cut: int) -> None:
        self.first, self.second, self.cut = first, second, cut

    def get(self, n: int) -> Any:
        return self.first.get(n) if n < self.cut else self.second.get(n - self.cut)

    def finish(self) -> None:
        self.first.finish()
        self.second.finish()
