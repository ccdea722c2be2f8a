"""The symbolic witness runs in spawned workers: a check that overruns its deadline still answers
with the other witnesses, its worker is replaced, and other clients keep being served."""

from __future__ import annotations

import threading
import time

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.client import Client


def heavy_loss():
    """270,000 weights at batch 4 on the exact tier: ~2.2M element evaluations, several seconds of
    mpmath work, while the parent's own witnesses stay light (a 4-row batch)."""
    torch.manual_seed(0)
    w = torch.randn(300, 900, dtype=torch.float64, requires_grad=True)
    return w, torch.tanh(torch.randn(4, 300, dtype=torch.float64) @ w).sum()


def seed_loss():
    torch.manual_seed(1)
    w = torch.randn(5, 3, requires_grad=True)
    return F.binary_cross_entropy_with_logits(torch.matmul(torch.ones(5), w), torch.zeros(3))


def test_deadline_overrun_answers_with_the_other_witnesses():
    from crossgrad.server.app import create_server
    from crossgrad.server.limits import Limits

    server = create_server(port=0, limits=Limits(exact_budget=10**9))  # let the deadline do the stopping
    replaced = server.pool.replaced
    w, loss = heavy_loss()
    start = time.monotonic()
    with Client(f"127.0.0.1:{server.port}", deadline=6.0) as client:
        report = client.check(loss, names={"w": w}, tier="exact")
    assert time.monotonic() - start < 6.0 + 1.5  # answered around the deadline, not after the exact run (~10 s+)
    assert "timed out" in report.tier_reason
    assert report.grad(w, "symbolic") is None and report.grad(w, "numeric") is not None
    pairs = {p.witnesses: p.verdict for p in report.leaf(w).pairs}
    assert pairs[("numeric", "finite_difference")] == "agree"
    assert pairs[("numeric", "symbolic")] == "skipped"
    assert report.verdict == "agree"
    assert server.pool.replaced == replaced + 1
    with Client(f"127.0.0.1:{server.port}") as client:  # the replacement worker serves the next call
        assert client.check(seed_loss()).verdict == "agree"
    server.stop(0)


def test_other_clients_are_served_while_a_worker_grinds(server):
    with Client(f"127.0.0.1:{server.port}") as client:
        client.check(seed_loss())  # warm
        normal = min(_timed(client) for _ in range(5))
    w, loss = heavy_loss()
    heavy = threading.Thread(target=lambda: Client(f"127.0.0.1:{server.port}", deadline=4.0).check(
        loss, tier="auto"))
    heavy.start()
    time.sleep(0.5)
    with Client(f"127.0.0.1:{server.port}") as client:
        during = sorted(_timed(client) for _ in range(5))
    heavy.join()
    # one core grinds in the worker, the other answers; allow for this machine's noise
    assert np.median(during) < max(4 * normal, 0.25), (normal, during)


def _timed(client: Client) -> float:
    start = time.perf_counter()
    assert client.check(seed_loss()).verdict == "agree"
    return time.perf_counter() - start


def test_dead_workers_are_replaced_and_checks_still_answer(server, monkeypatch):
    from crossgrad.server import workers

    monkeypatch.setattr(workers, "INLINE_WORK", 0)  # every symbolic job goes to a worker
    replaced = server.pool.replaced
    killed = server.pool.idle_workers()
    for worker in killed:
        worker.process.kill()
        worker.process.join(5)
    with Client(f"127.0.0.1:{server.port}") as client:
        for _ in range(3):
            report = client.check(seed_loss())
            assert report.verdict == "agree"
            assert report.leaves[0].grads.get("symbolic") is not None  # served by a replacement
    assert server.pool.replaced >= replaced + 1


def test_symbolic_runs_while_the_parent_works_and_a_failed_check_returns_its_worker(monkeypatch):
    """The worker computes while this process runs the other witnesses; when those fail after the
    job was sent, the worker's answer is still taken, so the pool keeps its worker."""
    from crossgrad.engine import check as check_module
    from crossgrad.engine.numeric.export import to_graph
    from crossgrad.server import workers
    from crossgrad.server.workers import SymbolicPool, runner

    monkeypatch.setattr(workers, "INLINE_WORK", 0)  # every symbolic job goes to a worker
    pool = SymbolicPool(size=1)
    try:
        request = check_module.CheckRequest(to_graph(seed_loss())[0])
        hook = runner(pool, time.monotonic() + 60, lambda: True)
        assert check_module.check(request, hook).verdict == "agree"  # warms the worker's caches
        started = []
        real = check_module.numeric_gradients

        def numeric_noting_the_worker(plan, seed):
            started.append(len(pool.idle_workers()))
            return real(plan, seed)

        monkeypatch.setattr(check_module, "numeric_gradients", numeric_noting_the_worker)
        assert check_module.check(request, hook).verdict == "agree"
        assert started == [0]  # the one worker was busy with this check's symbolic job

        def broken(plan, seed):
            raise RuntimeError("planted failure in the numeric witness")

        monkeypatch.setattr(check_module, "numeric_gradients", broken)
        with pytest.raises(RuntimeError, match="planted"):
            check_module.check(request, hook)
        assert len(pool.idle_workers()) == 1 and pool.replaced == 0
        monkeypatch.setattr(check_module, "numeric_gradients", real)
        assert check_module.check(request, hook).verdict == "agree"
    finally:
        pool.close()
