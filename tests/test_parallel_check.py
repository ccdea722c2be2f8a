"""engine/parallel.py: a large graph's witnesses side by side in threads give the report the
sequential check gives, and an error in one of them surfaces as it did sequentially."""

from __future__ import annotations

import dataclasses
import threading
import time

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import check as check_module
from crossgrad.engine import fd_joint, finite_diff, parallel
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.graph import GraphError
from crossgrad.engine.symbolic import tensor


@pytest.fixture(autouse=True)
def _small_thresholds(monkeypatch):
    """A small graph counts as large (threads), and its joint finite differences take one batch
    per direction (the model sizes would cost seconds of test time)."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1000)
    monkeypatch.setattr(parallel, "idle_core", lambda: True)  # (a loaded test machine still runs threads)
    monkeypatch.setattr(fd_joint, "JOINT_BATCH_ELEMENTS", 1)


def _loss():
    """An MLP with three parameters (2,368 elements: joint finite differences)."""
    rng = np.random.default_rng(3)
    x = crossgrad.tensor(rng.standard_normal((64, 32)))
    w1 = crossgrad.tensor(rng.standard_normal((64, 32)) * 0.2, requires_grad=True)
    b1 = crossgrad.tensor(rng.standard_normal(64) * 0.1, requires_grad=True)
    w2 = crossgrad.tensor(rng.standard_normal((4, 64)) * 0.2, requires_grad=True)
    y = crossgrad.tensor(rng.standard_normal((64, 4)))
    h = crossgrad.tanh(crossgrad.nn.functional.linear(x, w1, b1))
    loss = crossgrad.nn.functional.mse_loss(crossgrad.nn.functional.linear(h, w2), y)
    return loss, {"w1": w1, "b1": b1, "w2": w2}


def _summary(report) -> list:
    """Everything a report says about its leaves, gradients bit for bit."""
    out = [report.verdict, report.tier, report.tier_reason, report.finite_difference, list(report.notes)]
    for leaf in report.leaves:
        out.append((leaf.name, leaf.verdict, leaf.suspect, [dataclasses.asdict(p) for p in leaf.pairs],
                    {w: np.asarray(g).tobytes() for w, g in leaf.grads.items()}))
    return out


def test_threads_give_the_sequential_report(monkeypatch):
    loss, names = _loss()
    ran_on: list[str] = []
    real = tensor.gradients

    def recording(plan, seed):
        ran_on.append(threading.current_thread().name)
        return real(plan, seed)

    monkeypatch.setattr(tensor, "gradients", recording)
    sequential = crossgrad.check(loss, names=names, tier="tensor", threads=1)
    threaded = crossgrad.check(loss, names=names, tier="tensor", threads=2)
    assert sequential.tier == "tensor" and "4 joint directions" in sequential.finite_difference
    assert sequential.verdict == "agree", str(sequential)
    assert ran_on[0] == threading.current_thread().name and ran_on[1].startswith("crossgrad-check")
    assert _summary(threaded) == _summary(sequential)
    assert threaded.timings["symbolic"] > 0


def test_a_planted_bug_is_caught_the_same_way_with_threads(monkeypatch):
    from crossgrad.engine.numeric.rules import RULES
    from crossgrad.engine.numeric.ruletools import Rule

    rule = RULES["tanh"]
    monkeypatch.setitem(RULES, "tanh", Rule(rule.forward, lambda g, s, n: tuple(0.9 * v for v in rule.vjp(g, s, n))))
    loss, names = _loss()
    sequential = crossgrad.check(loss, names=names, tier="tensor", threads=1)
    threaded = crossgrad.check(loss, names=names, tier="tensor", threads=2)
    assert sequential.verdict == "mismatch" and {leaf.suspect for leaf in sequential.leaves} == {"numeric", None}
    assert _summary(threaded) == _summary(sequential)
    assert [c.node for c in threaded.culprits] == [c.node for c in sequential.culprits] != []


def test_a_symbolic_failure_on_its_thread_is_reported_as_before(monkeypatch):
    def uncovered(plan, seed):
        raise tensor.NotCovered("a planted gap")

    monkeypatch.setattr(tensor, "gradients", uncovered)
    loss, names = _loss()
    reports = [crossgrad.check(loss, names=names, tier="tensor", threads=n) for n in (1, 2)]
    for report in reports:
        assert report.tier == "off" and report.tier_reason == "the tensor tier does not cover a planted gap"
    assert _summary(reports[0]) == _summary(reports[1])


def test_a_finite_difference_error_surfaces_and_leaves_no_work_behind(monkeypatch):
    def broken(self, deltas):
        time.sleep(0.01)
        raise FloatingPointError("planted in a batch")

    monkeypatch.setattr(finite_diff._Objective, "_sides", broken)
    loss, names = _loss()
    for threads in (1, 2):
        with pytest.raises(FloatingPointError, match="planted in a batch"):
            crossgrad.check(loss, names=names, tier="tensor", threads=threads)
    assert parallel._executor().submit(lambda: "idle").result(timeout=5) == "idle"
    workers = [t for t in threading.enumerate() if t.name.startswith("crossgrad-check")]
    assert len(workers) <= parallel.configured() - 1


def test_a_numeric_error_cancels_the_symbolic_thread(monkeypatch):
    started, finished = threading.Event(), threading.Event()
    real = tensor.gradients

    def slow(plan, seed):
        started.set()
        time.sleep(0.2)
        finished.set()
        return real(plan, seed)

    def failing(plan, seed):
        started.wait(5)
        raise check_module.GraphError("graph.nodes[0]", "planted")

    monkeypatch.setattr(tensor, "gradients", slow)
    monkeypatch.setattr(check_module, "numeric_gradients", failing)
    loss, names = _loss()
    with pytest.raises(GraphError, match="planted"):
        crossgrad.check(loss, names=names, tier="tensor", threads=2)
    assert finished.is_set()  # the check waited for its symbolic thread before raising


def test_map_ordered_shares_items_and_keeps_their_order():
    both = threading.Barrier(2, timeout=10)  # passes only when two threads hold items at once

    def work(k):
        if k < 2:
            both.wait()
        return k * k, threading.current_thread().name

    found = parallel.map_ordered(work, range(6))
    assert [v for v, _ in found] == [k * k for k in range(6)]
    assert len({name for _, name in found[:2]}) == 2


def test_map_ordered_raises_the_first_failing_item_in_order():
    def work(k):
        if k == 1:
            time.sleep(0.05)  # fails last in time, first in order
            raise ValueError("item 1")
        if k == 2:
            raise KeyError("item 2")
        return k

    with pytest.raises(ValueError, match="item 1"):
        parallel.map_ordered(work, range(4))
    assert parallel.map_ordered(lambda k: k + 1, [], True) == []


def test_limit_one_and_the_environment_turn_threads_off(monkeypatch):
    me = threading.current_thread().name
    with parallel.limit(1):
        assert parallel.threads() == 1
        assert {name for name in parallel.map_ordered(lambda _: threading.current_thread().name, range(4))} == {me}
    monkeypatch.setenv(parallel.ENV, "1")
    assert parallel.configured() == 1 and parallel.threads() == 1
    loss, names = _loss()
    plan = crossgrad.engine.graph.validate(crossgrad.engine.numeric.export.to_graph(loss, {})[0])
    assert not parallel.worth_it(plan)
    monkeypatch.setenv(parallel.ENV, "2")
    assert parallel.worth_it(plan)
    forward = 2 * 64 * 64 + 64 * 4 + 1  # the values one forward pass computes: linear, tanh, linear, loss
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", forward)
    assert parallel.worth_it(plan)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", forward + 1)
    assert not parallel.worth_it(plan)
    monkeypatch.setenv(parallel.ENV, "3")
    assert parallel.configured() == 3


def test_a_busy_machine_runs_sequentially(monkeypatch):
    monkeypatch.undo()
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1000)
    loss, _ = _loss()
    plan = crossgrad.engine.graph.validate(crossgrad.engine.numeric.export.to_graph(loss, {})[0])
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (2.0, 0.0, 0.0))
    assert not parallel.idle_core() and not parallel.worth_it(plan)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (1.2, 3.0, 3.0))
    assert parallel.idle_core() and parallel.worth_it(plan)


def test_a_bad_thread_count_is_a_field_error():
    loss, _ = _loss()
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(GraphError, match="threads"):
            CheckRequest(crossgrad.engine.numeric.export.to_graph(loss, {})[0], threads=bad)


def test_a_check_without_finite_differences_runs():
    """A request naming no finite-difference witness has no differences to describe (the merge of
    the thread limit once described them anyway: AttributeError on None)."""
    loss, _ = _loss()
    report = crossgrad.check(loss, witnesses=("numeric",), tier="off")
    assert report.finite_difference == "off" and report.verdict == "skipped"
