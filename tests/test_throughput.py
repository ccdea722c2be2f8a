"""No per-call tax: a structure a worker has run is then checked without a worker round trip when
its exact-tier work is tiny; everything else still goes to a worker."""

from __future__ import annotations

import time

import numpy as np
import pytest
from crossgrad.engine.check import WitnessTimeout
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.symbolic import exact
from crossgrad.server import workers
from crossgrad.server.workers import SymbolicPool


def tanh_sum(values: np.ndarray) -> Graph:
    return Graph((Leaf("w", values, True), OpNode("t", "tanh", ("w",)), OpNode("s", "sum", ("t",))), "s")


@pytest.fixture(scope="module")
def pool():
    made = SymbolicPool(1)
    yield made
    made.close()


def run(pool: SymbolicPool, values: np.ndarray) -> dict[int, np.ndarray]:
    plan = validate(tanh_sum(values))
    return pool.run(plan, np.ones(()), "exact", time.monotonic() + 30)


def test_second_check_of_a_structure_runs_inline_with_the_same_gradients(pool):
    rng = np.random.default_rng(0)
    first, second = rng.standard_normal((2, 4))
    before = pool.inline_calls
    got = run(pool, first)  # the worker derives it: now proven
    assert pool.inline_calls == before
    np.testing.assert_allclose(got[0], 1 - np.tanh(first) ** 2, rtol=1e-12)
    got = run(pool, second)
    assert pool.inline_calls == before + 1
    np.testing.assert_allclose(got[0], 1 - np.tanh(second) ** 2, rtol=1e-12)


def test_large_work_always_goes_to_a_worker(pool, monkeypatch):
    values = np.linspace(-1, 1, 6)
    run(pool, values)
    assert exact.estimate_work(validate(tanh_sum(values))) > 1
    monkeypatch.setattr(workers, "INLINE_WORK", 1)
    before = pool.inline_calls
    np.testing.assert_allclose(run(pool, values)[0], 1 - np.tanh(values) ** 2, rtol=1e-12)
    assert pool.inline_calls == before


def test_a_slow_first_run_proves_nothing_even_when_later_runs_are_fast(pool, monkeypatch):
    values = np.linspace(-1, 1, 7)
    monkeypatch.setattr(workers, "PROVEN_SECONDS", -1.0)  # every first run counts as slow
    run(pool, values)
    run(pool, values)  # derivation cached in the worker: fast, but its first run decides
    before = pool.inline_calls
    run(pool, values)
    assert validate(tanh_sum(values)).structure_hash not in pool.proven
    assert pool.inline_calls == before


def test_an_inline_failure_is_reported_like_a_worker_failure(pool, monkeypatch):
    values = np.linspace(-1, 1, 3)
    run(pool, values)

    def broken(plan, seed):
        raise ValueError("planted")

    monkeypatch.setattr(exact, "gradients", broken)
    with pytest.raises(WitnessTimeout, match="planted"):
        run(pool, values)


def test_the_tensor_tier_never_runs_inline(pool):
    values = np.linspace(-1, 1, 5)
    plan = validate(tanh_sum(values))
    pool.run(plan, np.ones(()), "tensor", time.monotonic() + 30)
    before = pool.inline_calls
    pool.run(plan, np.ones(()), "tensor", time.monotonic() + 30)
    assert pool.inline_calls == before
