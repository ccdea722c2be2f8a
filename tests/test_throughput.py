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

OMP_BEFORE = __import__("os").environ.get("OMP_NUM_THREADS")


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


# --- leaf values only: a worker that holds a structure gets its values in one raw buffer --------
def test_a_leaf_buffer_round_trips_every_dtype_and_refuses_a_wrong_length():
    from crossgrad.server import leafbuf

    graph = Graph((Leaf("x", np.arange(6, dtype=np.float32).reshape(2, 3), True),
                   Leaf("w", np.linspace(0, 1, 3), True), Leaf("t", np.array([2, 0]), False),
                   OpNode("m", "matmul", ("x", "w")), OpNode("s", "sum", ("m",))), "s")
    plan = validate(graph)
    seed = np.array(0.5)
    key = leafbuf.key_of(plan, seed, "exact")
    message = leafbuf.pack(key, plan, seed)
    assert message[:1] == leafbuf.VALUES and len(message) < 200  # no plan inside
    got_key, data = leafbuf.split_key(message)
    rebuilt, got_seed = leafbuf.unpack(leafbuf.skeleton(plan), seed.dtype, data)
    assert got_key == key and got_seed == 0.5
    for before, after in zip(graph.nodes[:3], rebuilt.graph.nodes[:3]):
        assert after.value.dtype == before.value.dtype
        np.testing.assert_array_equal(after.value, before.value)
    with pytest.raises(ValueError, match="expected"):
        leafbuf.unpack(leafbuf.skeleton(plan), seed.dtype, memoryview(bytes(data) + b"x" * 8))
    with pytest.raises(ValueError, match="too short"):
        leafbuf.unpack(leafbuf.skeleton(plan), seed.dtype, data[:10])


def test_a_known_structure_travels_as_values_and_gives_the_right_gradients(pool, monkeypatch):
    monkeypatch.setattr(workers, "INLINE_WORK", 0)  # every job to the worker
    rng = np.random.default_rng(1)
    values = rng.standard_normal((3, 11))
    run(pool, values[0])
    before = pool.values_jobs
    for v in values[1:]:
        np.testing.assert_allclose(run(pool, v)[0], 1 - np.tanh(v) ** 2, rtol=1e-12)
    assert pool.values_jobs == before + 2


def test_a_structure_the_parent_evicted_is_sent_whole_again(pool, monkeypatch):
    from crossgrad.server import leafbuf

    monkeypatch.setattr(workers, "INLINE_WORK", 0)
    monkeypatch.setattr(leafbuf, "KNOWN_PER_WORKER", 2)
    sizes = (13, 14, 15)
    for n in sizes:
        run(pool, np.linspace(-1, 1, n))
    before = pool.values_jobs
    v = np.linspace(-2, 2, sizes[0])  # evicted: the whole plan again, answered all the same
    np.testing.assert_allclose(run(pool, v)[0], 1 - np.tanh(v) ** 2, rtol=1e-12)
    assert pool.values_jobs == before


def test_parallel_proven_jobs_go_to_the_idle_worker_that_holds_them(pool, monkeypatch):
    monkeypatch.setattr(workers, "PARALLEL_PROVEN", True)
    v = np.linspace(-1, 1, 17)
    run(pool, v)  # proven now
    inline, values = pool.inline_calls, pool.values_jobs
    np.testing.assert_allclose(run(pool, v * 2)[0], 1 - np.tanh(v * 2) ** 2, rtol=1e-12)
    assert (pool.inline_calls, pool.values_jobs) == (inline, values + 1)


def test_workers_start_with_one_blas_thread_and_the_parent_env_is_untouched(pool):
    import os
    from pathlib import Path

    worker = pool.idle_workers()[0]
    env = dict(item.split("=", 1) for item in Path(f"/proc/{worker.process.pid}/environ").read_text()
               .split("\0") if "=" in item)
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "1"
    assert os.environ.get("OMP_NUM_THREADS") == OMP_BEFORE  # restored after the workers started


def test_a_server_process_runs_numpy_with_one_blas_thread(monkeypatch):
    from crossgrad.server import app, blas

    if blas.limit_threads(2) != 2:
        pytest.skip("numpy's BLAS here is not a multi-threaded OpenBLAS")
    running = app.create_server("127.0.0.1", 0)
    running.stop(0)
    assert blas.threads() == 1
    monkeypatch.setenv("CROSSGRAD_BLAS_THREADS", "2")
    running = app.create_server("127.0.0.1", 0)
    running.stop(0)
    assert blas.threads() == 2
    blas.limit_threads(1)


def _connections_to(port: int) -> int:
    """ESTABLISHED TCP connections whose remote port is ``port`` (/proc/net/tcp, tcp6)."""
    from pathlib import Path

    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def test_each_client_has_its_own_connection_so_processes_share_the_load():
    """gRPC shares one connection among a process's channels to the same target unless told not
    to; then every client of a load generator lands on one process of `serve --processes`."""
    from crossgrad.client import Client
    from crossgrad.server import app

    running = app.create_server("127.0.0.1", 0)
    clients = [Client(f"127.0.0.1:{running.port}") for _ in range(3)]
    try:
        for client in clients:
            client.server_info()
        assert _connections_to(running.port) == 3
    finally:
        for client in clients:
            client.close()
        running.stop(0)
