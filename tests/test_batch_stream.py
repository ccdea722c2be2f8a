"""CheckStream batches consecutive same-structure requests (server/batching.py), on a real server."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from crossgrad.client import wire
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.server import batching
from crossgrad.server import wire as server_wire
from crossgrad.server.limits import Limits
from crossgrad.v1 import crossgrad_pb2 as pb

SEED = Path(__file__).parents[1] / "examples" / "seed.json"


@pytest.fixture()
def arrived(monkeypatch):
    """Every request of a stream has arrived before the server answers the first: the grouping
    is then deterministic (in normal use it takes whatever has arrived)."""
    real = batching.stream
    monkeypatch.setattr(batching, "stream", lambda servicer, requests, context: real(servicer, list(requests), context))


@pytest.fixture()
def call(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel.stream_stream("/crossgrad.v1.CrossgradService/CheckStream",
                                    request_serializer=pb.CheckStreamRequest.SerializeToString,
                                    response_deserializer=pb.CheckStreamResponse.FromString)


def _seed_requests(count: int, rng: np.random.Generator) -> list:
    base = wire.request_from_json(SEED.read_text())
    base.formulas = False
    out = []
    for _ in range(count):
        request = pb.CheckRequest()
        request.CopyFrom(base)
        for node in request.graph.nodes:
            if node.WhichOneof("kind") == "leaf" and node.leaf.requires_grad:
                node.leaf.value.data[:] = rng.standard_normal(len(node.leaf.value.data)).astype(np.float32).tolist()
        out.append(request)
    return out


def _square(value: float) -> pb.CheckRequest:
    graph = Graph((Leaf("x", np.array([value]), True), OpNode("m", "mul", ("x", "x")),
                   OpNode("s", "sum", ("m",), {"dim": None, "keepdim": False})), "s")
    return wire.request_out(CheckRequest(graph))


def _stream(call, requests: list) -> list:
    return list(call(pb.CheckStreamRequest(request=r) for r in requests))


def _without_flag_and_timings(response):
    copy = pb.CheckStreamResponse()
    copy.CopyFrom(response)
    copy.batched = False
    copy.response.ClearField("timings_ms")
    return copy


def test_a_batched_stream_answers_exactly_as_one_by_one(arrived, call, monkeypatch):
    """Every figure equal; a planted wrong claimed gradient in the middle is caught there only.
    70 requests: the worker's answers arrive in parts of 32 (group_jobs.PART)."""
    requests = _seed_requests(70, np.random.default_rng(4))
    for k, request in enumerate(requests):  # every request claims b's gradient; request 40 wrongly
        right = check(server_wire.request_in(request, Limits())).grad("b", "symbolic")
        request.claimed["b"].CopyFrom(wire.tensor_out(right if k != 40 else right + [0.5, -0.5, 0.25]))
    together = _stream(call, requests)
    monkeypatch.setattr(batching, "BATCHING", False)
    alone = _stream(call, requests)
    assert all(r.batched for r in together)
    assert not any(r.batched for r in alone)
    assert [_without_flag_and_timings(r) for r in together] == [_without_flag_and_timings(r) for r in alone]
    verdicts = [pb.Verdict.Name(r.response.verdict) for r in together]
    assert verdicts == ["VERDICT_AGREE"] * 40 + ["VERDICT_MISMATCH"] + ["VERDICT_AGREE"] * 29
    b = next(leaf for leaf in together[40].response.leaves if leaf.name == "b")
    assert pb.Verdict.Name(b.verdict) == "VERDICT_MISMATCH" and pb.Witness.Name(b.suspect) == "WITNESS_CLAIMED"


def test_a_bad_request_inside_a_batch_gets_its_own_error(arrived, call):
    requests = _seed_requests(7, np.random.default_rng(5))
    requests[3].graph.nodes[2].op.inputs[1] = "nowhere"
    answers = _stream(call, requests)
    assert len(answers) == 7
    assert [a.HasField("error") for a in answers] == [False] * 3 + [True] + [False] * 3
    error = answers[3].error
    assert error.code == 3 and error.field == "requests[3].graph.nodes[2].inputs[1]", error
    assert [a.batched for a in answers] == [True, True, True, False, True, True, True]
    assert all(pb.Verdict.Name(a.response.verdict) == "VERDICT_AGREE" for a in answers if not a.HasField("error"))


def test_later_requests_of_a_batch_read_only_their_values(arrived, call, monkeypatch):
    """Requests 2..n of a run take the first one's validated graph with their own values
    (stream_values); the answers equal those of requests converted in full."""
    from crossgrad.server import stream_values, unary_values

    monkeypatch.setattr(unary_values, "ENABLED", False)  # request 6, alone, would use a lone Check's template
    requests = _seed_requests(9, np.random.default_rng(8))
    requests[4].graph.nodes[5].leaf.value.data[:] = [1e300, -0.0, float("nan")]  # inf in float32, nan
    requests[6].fd_seed = 5  # another option: the full way, alone; 7 is the next template
    used = []
    real = stream_values.Template.prepared_with
    monkeypatch.setattr(stream_values.Template, "prepared_with", lambda self, v: used.append(1) or real(self, v))
    fast = _stream(call, requests)
    assert len(used) == 6 and [a.batched for a in fast] == [True] * 6 + [False] + [True] * 2
    monkeypatch.setattr(batching, "TEMPLATES", False)
    full = _stream(call, requests)
    assert len(used) == 6
    assert [_without_flag_and_timings(a) for a in fast] == [_without_flag_and_timings(a) for a in full]
    assert pb.Verdict.Name(fast[4].response.verdict) == "VERDICT_NON_FINITE"


def test_a_stream_mixing_structures_keeps_order_and_flags_only_runs(arrived, call):
    seeds = _seed_requests(4, np.random.default_rng(6))
    requests = [seeds[0], _square(1.0), seeds[1], seeds[2], _square(2.0), _square(3.0), seeds[3], _square(4.0)]
    answers = _stream(call, requests)
    assert [a.batched for a in answers] == [False, False, True, True, True, True, False, False]
    symbolic = [list(a.response.leaves[0].symbolic.data) for a in answers]
    assert [s for s, r in zip(symbolic, requests) if r.root == "s"] == [[2.0], [4.0], [6.0], [8.0]]
    assert all(pb.Verdict.Name(a.response.verdict) == "VERDICT_AGREE" for a in answers)


def test_sdk_check_many_reports_say_batched(arrived, server):
    """The SDK's reports carry the flag; batched or not, the figures are the local check's."""
    import crossgrad as torch
    from crossgrad.client import Client

    losses = []
    for k in range(4):
        w = torch.tensor(np.arange(3.0) + k, requires_grad=True)
        losses.append((w.tanh() * w).sum())
    with Client(f"127.0.0.1:{server.port}", deadline=60) as client:
        reports = list(client.check_many(losses))
    assert [r.batched for r in reports] == [True] * 4
    for report, loss in zip(reports, losses):
        alone = torch.check(loss)
        assert report.verdict == alone.verdict == "agree"
        assert np.array_equal(report.leaves[0].grads["numeric"], alone.leaves[0].grads["numeric"])
        assert np.array_equal(report.leaves[0].grads["finite_difference"], alone.leaves[0].grads["finite_difference"])


def test_a_group_job_split_over_two_idle_workers_answers_every_request():
    from crossgrad.engine.graph import validate
    from crossgrad.engine.symbolic import exact
    from crossgrad.server.group_jobs import SplitAnswers
    from crossgrad.server.workers import SymbolicPool

    pool = SymbolicPool(2)
    try:
        plans = []
        for k in range(40):
            graph = Graph((Leaf("x", np.array([0.5 + k, -1.0]), True), OpNode("t", "tanh", ("x",)),
                           OpNode("s", "sum", ("t",), {"dim": None, "keepdim": False})), "s")
            plans.append(validate(graph))
        seeds = [np.ones(())] * 40
        job = pool.submit_many(plans, seeds, "exact", time.monotonic() + 60)
        assert isinstance(job, SplitAnswers) and job.cut == 20
        for n in (0, 19, 20, 39):
            assert np.array_equal(job.get(n)[0], exact.gradients(plans[n], seeds[n])[0][0])
        job.finish()
        assert len(pool.idle_workers()) == 2  # both back in the pool
    finally:
        pool.close()


def test_answers_computed_ahead_are_bounded_and_stop_with_the_call(monkeypatch):
    """A client that does not read its answers stops the batch thread (memory stays bounded);
    the end of the call releases it."""
    import queue
    import threading

    made = []

    def batches(servicer, waiting, context):
        for k in range(100):
            made.append(k)
            yield k

    monkeypatch.setattr(batching, "_batches", batches)
    answers: queue.Queue = queue.Queue(maxsize=5)
    stopped = threading.Event()
    thread = threading.Thread(target=batching._compute, args=(None, None, answers, None, stopped))
    thread.start()
    deadline = time.monotonic() + 10
    while answers.qsize() < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert answers.qsize() == 5 and len(made) == 6  # the sixth waits for room
    assert [answers.get() for _ in range(3)] == [0, 1, 2]
    stopped.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(made) <= 10


def test_a_proven_structure_s_group_computed_in_the_server_thread_answers_alike(arrived, call, monkeypatch):
    """CROSSGRAD_STREAM_GROUP_INLINE=1: the group's exact tier in this thread (group_jobs.InlineAnswers)."""
    from crossgrad.server import group_jobs

    requests = _seed_requests(12, np.random.default_rng(12))
    for k, request in enumerate(requests):
        right = check(server_wire.request_in(request, Limits())).grad("b", "symbolic")
        request.claimed["b"].CopyFrom(wire.tensor_out(right if k != 5 else right + [0.0, 0.5, 0.0]))
    by_worker = _stream(call, requests)  # also proves the structure
    made = []
    real = group_jobs.InlineAnswers.__init__
    monkeypatch.setattr(group_jobs.InlineAnswers, "__init__", lambda self, *a: made.append(1) or real(self, *a))
    monkeypatch.setattr(batching, "GROUP_INLINE", True)
    inline = _stream(call, requests)
    assert made == [1] and all(a.batched for a in inline)
    assert [_without_flag_and_timings(a) for a in inline] == [_without_flag_and_timings(a) for a in by_worker]
    assert [pb.Verdict.Name(a.response.verdict) for a in inline].count("VERDICT_MISMATCH") == 1
