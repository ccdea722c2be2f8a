"""A check's SymPy work beyond the first-order symbolic witness runs where the caller says
(engine/offload.py); the server sends it to a symbolic worker under the call's deadline
(server/calls.py). An overrun is a part that did not run, never a request thread held."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
from crossgrad.client import wire as client_wire
from crossgrad.engine import offload
from crossgrad.engine.check import CheckRequest, WitnessTimeout, check
from crossgrad.engine.errors import DeadlineError
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.program import Step
from crossgrad.server import batching, calls, wire
from crossgrad.server.app import create_server
from crossgrad.server.limits import Limits
from crossgrad.v1 import crossgrad_pb2 as pb

from .test_batch_stream import _seed_requests, _stream, _without_flag_and_timings
from .test_hardening import GOOD, call, leaf, op, request


def _tanh_graph() -> Graph:
    return Graph((Leaf("x", np.array([0.3, -0.8, 1.1]), True), OpNode("t", "tanh", ("x",)),
                  OpNode("m", "mul", ("t", "x")), OpNode("out", "sum", ("m",))), "out")


def _overrun(fn, args):  # noqa: ANN001, ANN202
    raise WitnessTimeout("symbolic witness stopped: the deadline passed")


def _recorded(names: list):  # noqa: ANN202
    def run_here(fn, args):  # noqa: ANN001, ANN202
        names.append(fn.__name__)
        return fn(*args)

    return run_here


def _figures(report) -> tuple:  # noqa: ANN001
    return (report.verdict, report.tier, report.tier_reason, report.notes,
            [(leaf.name, leaf.verdict, {w: np.asarray(g).tolist() for w, g in leaf.grads.items()})
             for leaf in report.leaves])


def test_order2_symbolic_work_goes_through_the_runner_and_reports_alike():
    alone = check(CheckRequest(_tanh_graph(), order=2))
    names: list = []
    with offload.using(_recorded(names)):
        routed = check(CheckRequest(_tanh_graph(), order=2))
    assert names == ["symbolic_hvps"]
    assert _figures(routed) == _figures(alone) and routed.tier == "exact"


def test_order2_overrun_answers_with_the_other_witnesses():
    with offload.using(_overrun):
        report = check(CheckRequest(_tanh_graph(), order=2))
    assert report.tier == "off" and "symbolic witness timed out" in report.tier_reason
    leaf = report.leaves[0]
    assert "symbolic" not in leaf.grads and leaf.grads["numeric"].shape == (3, 3)
    pairs = {p.witnesses: p.verdict for p in leaf.pairs}
    assert pairs == {("numeric", "finite_difference"): "agree"} and report.verdict == "agree"


def test_mismatch_follow_ups_overrun_as_notes():
    """A wrong claimed gradient: the forward check, localization and closed forms need SymPy."""
    graph = _tanh_graph()
    names: list = []
    with offload.using(_recorded(names)):
        routed = check(CheckRequest(graph, tier="exact", claimed={"x": np.ones(3)}, formulas=True))
    assert routed.verdict == "mismatch" and set(names) == {"node_values", "node_adjoints", "rendered_with_mathml"}
    with offload.using(_overrun):
        report = check(CheckRequest(graph, tier="exact", claimed={"x": np.ones(3)}, formulas=True))
    assert report.verdict == "mismatch"  # the symbolic witness itself ran (check's own hook)
    assert report.leaves[0].suspect == routed.leaves[0].suspect == "claimed"
    notes = " | ".join(report.notes)
    assert "forward values not compared" in notes and "op-level localization did not finish" in notes
    assert "closed forms not written" in notes and report.leaves[0].closed_form is None
    assert routed.leaves[0].closed_form


def test_claimed_stages_fall_back_to_the_numeric_engine():
    claimed = {"t": np.zeros(3)}  # d out / d t is x, not 0
    with offload.using(_overrun):
        report = check(CheckRequest(_tanh_graph(), tier="exact", claimed=claimed))
    assert report.verdict == "mismatch" and report.culprits[0].node == "t"
    assert any("judged against the numeric engine" in note for note in report.notes)


def test_a_program_whose_symbolic_reference_overruns_stops_at_the_deadline():
    """A program's symbolic reference goes by check's symbolic hook (a server's worker)."""
    started: list = []

    def hook(plan, seed, tier):  # noqa: ANN001, ANN202
        started.append(tier)
        return lambda: _overrun(None, ())

    with pytest.raises(DeadlineError, match="symbolic reference did not finish"):
        check(CheckRequest(_tanh_graph(), tier="exact", program=[Step("backward")]), symbolic=hook)
    assert started == ["exact"]


@pytest.fixture(scope="module")
def one_worker():
    """One symbolic worker: a call made while a stream's group job holds it must not wait for it."""
    running = create_server("127.0.0.1", 0, limits=Limits(symbolic_workers=1))
    yield running
    running.stop(0)


@pytest.fixture()
def channel(one_worker):
    with grpc.insecure_channel(f"127.0.0.1:{one_worker.port}") as ch:
        yield ch


def _product_order2() -> pb.CheckRequest:
    """SymPy's Hessian of a 24-element product takes ~7 s (quiet machine)."""
    values = (1 + 0.1 * np.sin(np.arange(24))).tolist()
    return request(leaf("x", [24], values), op("p", "prod", ["x"]), order=2, tier=pb.TIER_EXACT)


def test_slow_order2_sympy_stops_at_the_deadline_and_the_server_keeps_serving(one_worker, channel):
    replaced = one_worker.pool.replaced
    started = time.monotonic()
    try:
        answer = call(channel, _product_order2(), timeout=2.5)
        assert answer.tier == pb.TIER_OFF and "symbolic witness timed out" in answer.tier_reason
        assert answer.verdict == pb.VERDICT_AGREE  # numeric against finite differences
    except grpc.RpcError as err:  # a loaded machine may not even answer in time
        assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    while one_worker.servicer.active and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert one_worker.servicer.active == 0  # the request thread is free long before SymPy's ~7 s
    assert time.monotonic() - started < 5
    assert one_worker.pool.replaced == replaced + 1
    assert call(channel, GOOD).verdict == pb.VERDICT_AGREE


def test_order2_over_the_wire_runs_its_sympy_in_a_worker_with_the_same_report(one_worker, channel):
    graph = _tanh_graph()
    before = one_worker.pool.calls
    remote = call(channel, client_wire.request_out(CheckRequest(graph, order=2)))
    assert one_worker.pool.calls == before + 1
    local = wire.response_out(check(CheckRequest(graph, order=2)))
    for message in (remote, local):
        message.ClearField("timings_ms")
    assert remote == local and remote.tier == pb.TIER_EXACT


def test_follow_ups_in_a_batch_do_not_wait_for_the_group_job(channel, monkeypatch):
    """Every request claims a wrong gradient: each one's forward check and localization need a
    worker while the group's job (40 requests, answered in parts) still holds the only one."""
    requests = _seed_requests(40, np.random.default_rng(9))
    for request_ in requests:
        request_.claimed["b"].CopyFrom(pb.Tensor(shape=[3], dtype=pb.DTYPE_FLOAT32, data=[0.5, -0.5, 0.25]))
    stream = channel.stream_stream("/crossgrad.v1.CrossgradService/CheckStream",
                                   request_serializer=pb.CheckStreamRequest.SerializeToString,
                                   response_deserializer=pb.CheckStreamResponse.FromString)
    real = batching.stream  # every request arrives before the first answer: one group of 40
    monkeypatch.setattr(batching, "stream", lambda servicer, items, context: real(servicer, list(items), context))
    together = _stream(lambda items: stream(items, timeout=30), requests)
    monkeypatch.setattr(batching, "BATCHING", False)
    alone = _stream(lambda items: stream(items, timeout=30), requests)
    assert all(r.batched for r in together)
    assert [_without_flag_and_timings(r) for r in together] == [_without_flag_and_timings(r) for r in alone]
    assert all(r.response.verdict == pb.VERDICT_MISMATCH for r in together)
    assert not any("did not finish" in n or "not compared" in n for r in together for n in r.response.notes)


def test_a_call_after_the_deadline_takes_no_worker(one_worker):
    replaced, calls_before = one_worker.pool.replaced, one_worker.pool.calls
    with pytest.raises(WitnessTimeout, match="deadline passed"):
        calls.call(one_worker.pool, divmod, (7, 2), time.monotonic(), lambda: True)
    assert (one_worker.pool.replaced, one_worker.pool.calls) == (replaced, calls_before)


def test_a_worker_error_comes_back_as_its_own_type(one_worker):
    deadline = time.monotonic() + 10
    with pytest.raises(ZeroDivisionError):
        calls.call(one_worker.pool, divmod, (1, 0), deadline, lambda: True)
    assert calls.call(one_worker.pool, divmod, (7, 2), deadline, lambda: True) == (3, 1)
