"""Limits hold for every intermediate and for the response, checked from declared shapes before
anything is allocated: hostile-but-small requests are refused fast, naming the node, and the
server keeps serving (issue 19)."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
from crossgrad.server.app import create_server
from crossgrad.v1 import crossgrad_pb2 as pb
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .test_hardening import GOOD, leaf, op, request


@pytest.fixture(scope="module")
def stub():
    running = create_server("127.0.0.1", 0)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}",
                                    options=[("grpc.max_send_message_length", 256 * 1024 * 1024),
                                             ("grpc.max_receive_message_length", 256 * 1024 * 1024)])
    from crossgrad.v1 import crossgrad_pb2_grpc

    yield crossgrad_pb2_grpc.CrossgradServiceStub(channel), health_pb2_grpc.HealthStub(channel)
    channel.close()
    running.stop(0)


def _column(name, n, dtype=pb.DTYPE_FLOAT32):
    return leaf(name, [n, 1], np.linspace(-1, 1, n).tolist(), dtype)


def _row(name, n, dtype=pb.DTYPE_FLOAT32):
    return leaf(name, [n], np.linspace(-1, 1, n).tolist(), dtype)


HOSTILE = {
    "broadcast 10,000 x 10,000": (request(_column("a", 10_000), _row("b", 10_000), op("s", "add", ["a", "b"]),
                                          op("out", "sum", ["s"])),
                                  "graph.nodes[2]", "add output 10000x10000 = 100,000,000 elements exceeds"),
    "matmul outer product blow-up": (request(_column("a", 4_000), leaf("b", [1, 4_000], [0.5] * 4_000),
                                             op("m", "matmul", ["a", "b"]), op("out", "sum", ["m"])),
                                     "graph.nodes[2]", "matmul output 4000x4000"),
    "intermediates together": (request(_column("a", 1_000), _row("b", 3_000),
                                       *[op(f"s{i}", "add", ["a", "b"]) for i in range(12)],
                                       op("out", "sum", ["s11"])),
                               "graph.nodes", "elements in all op outputs exceed"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_blow_ups_are_refused_before_allocation(stub, case):
    check, health = stub
    message, path, reason = HOSTILE[case]
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        check.Check(message, timeout=30)
    assert time.monotonic() - started < 5  # refused up front, not computed
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert path in err.value.details() and reason in err.value.details()
    assert check.Check(GOOD, timeout=30).verdict == pb.VERDICT_AGREE
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


def test_a_response_too_big_to_send_is_refused_up_front(stub):
    check, _ = stub
    n = 2_000_000  # two float64 leaves at half the element limit: 3 witnesses x 4M elements x 8 bytes
    big = request(leaf("a", [n], np.ones(n).tolist()), leaf("b", [n], np.ones(n).tolist()),
                  op("m", "mul", ["a", "b"]), op("out", "sum", ["m"]))
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        check.Check(big, timeout=60)
    assert time.monotonic() - started < 15
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "witnesses" in err.value.details() and "ask for figures only" in err.value.details()
    few = pb.CheckRequest()
    few.CopyFrom(big)
    few.witnesses[:] = [pb.WITNESS_NUMERIC]
    few.tier = pb.TIER_OFF
    assert check.Check(few, timeout=60).verdict == pb.VERDICT_SKIPPED  # one witness: nothing to compare, but sent


def test_figures_only_leaves_the_gradients_out():
    import crossgrad as torch
    from crossgrad.client import Client

    running = create_server("127.0.0.1", 0)
    try:
        w = torch.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        loss = torch.tanh(w).sum()
        with Client(f"127.0.0.1:{running.port}") as client:
            full, slim = client.check(loss), client.check(loss, figures_only=True)
    finally:
        running.stop(0)
    assert full.verdict == slim.verdict == "agree"
    assert set(full.leaves[0].grads) == {"numeric", "symbolic", "finite_difference"} and slim.leaves[0].grads == {}
    assert [(p.witnesses, p.mismatched, p.total, p.max_abs) for p in full.leaves[0].pairs] == \
        [(p.witnesses, p.mismatched, p.total, p.max_abs) for p in slim.leaves[0].pairs]


def test_limits_are_published(stub):
    check, _ = stub

    info = check.GetServerInfo(pb.GetServerInfoRequest())
    assert info.limits.max_intermediate_elements == 32_000_000


def _chain(op, n, x, **attrs):
    nodes = [leaf("x", [1], [x])]
    for i in range(n):
        nodes.append(op_node(f"n{i}", op, ["x" if i == 0 else f"n{i - 1}"], attrs))
    nodes.append(op_node("out", "sum", [f"n{n - 1}"], {}))
    return request(*nodes, tier=pb.TIER_EXACT)


def op_node(name, kind, inputs, attrs):
    return op(name, kind, inputs, **{k: pb.AttrValue(float_value=v) for k, v in attrs.items()})


@pytest.mark.parametrize(("message", "label"), [
    (_chain("exp", 6, 1.0), "6 nested exp"),
    (_chain("exp", 2_000, 0.5), "2,000 chained exp"),
    (_chain("exp", 2, 1e300), "exp of 1e300"),
    (_chain("pow", 30, 1.5, exponent=3.7), "pow tower"),
])
def test_overflowing_magnitudes_are_non_finite_fast_not_a_failed_witness(stub, message, label):
    check, health = stub
    started = time.monotonic()
    response = check.Check(message, timeout=30)
    assert time.monotonic() - started < 10, label
    assert response.verdict == pb.VERDICT_NON_FINITE, label
    assert "failed" not in response.tier_reason and "timed out" not in response.tier_reason
    symbolic = response.leaves[0].symbolic
    assert symbolic.data and not np.isfinite(symbolic.data[0])  # the symbolic witness answered
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


def test_auto_weighs_evaluations_by_their_measured_cost():
    """A softmax graph under the raw 4M-evaluation budget costs ~7x a matmul evaluation each: auto
    now takes the tensor tier instead of a 60 s exact run (bench/measure_exact_costs.py)."""
    from crossgrad.engine.check import CheckRequest, check
    from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
    from crossgrad.engine.symbolic import exact

    x = Leaf("x", np.random.default_rng(0).standard_normal((300, 110)), True)
    graph = Graph((x, OpNode("s", "softmax", ("x",), {"dim": -1}), OpNode("out", "sum", ("s",))), "out")
    plan = validate(graph)
    assert exact.raw_work(plan) < 4_000_000 < exact.estimate_work(plan)
    report = check(CheckRequest(graph, tier="auto"))
    assert report.tier == "tensor" and "> exact budget 4,000,000" in report.tier_reason


def test_auto_budget_follows_the_calls_deadline():
    """With 1.5 s left, auto's exact budget is 750k evaluations, so a ~1M one goes to tensor."""
    import crossgrad as torch
    from crossgrad.client import Client

    running = create_server("127.0.0.1", 0)
    try:
        w = torch.randn(200, 200, dtype=torch.float64, requires_grad=True)
        loss = torch.tanh(torch.randn(12, 200, dtype=torch.float64) @ w).sum()  # ~1M matmul-equivalent units
        with Client(f"127.0.0.1:{running.port}", deadline=30.0) as client:
            assert client.check(loss).tier == "exact"
        with Client(f"127.0.0.1:{running.port}", deadline=1.5) as client:
            report = client.check(loss)
        assert report.tier == "tensor" and "exact budget" in report.tier_reason
    finally:
        running.stop(0)


def test_bytes_that_are_not_a_request_are_invalid_argument():
    garbage = b"\xff\xff\xff\xff\x0f"  # a field key with an invalid wire type: no protobuf parses it
    running = create_server("127.0.0.1", 0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.RpcError) as err:
                channel.unary_unary("/crossgrad.v1.CrossgradService/Check")(garbage, timeout=10)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "not a CheckRequest message" in err.value.details()
            stream = channel.stream_stream("/crossgrad.v1.CrossgradService/CheckStream",
                                           response_deserializer=pb.CheckStreamResponse.FromString)
            (answer,) = list(stream(iter([garbage]), timeout=10))  # its own error; the stream ends normally
            assert answer.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
            assert "not a CheckRequest message" in answer.error.message
    finally:
        running.stop(0)


@pytest.mark.parametrize(("dims", "reason"), [((0, 0), "repeated dim in permute"), ((0,), "number of dims"),
                                               ((0, 1, 2), "number of dims"), ((0, 5), "out of range")])
def test_bad_permutations_are_invalid_argument_not_internal(stub, dims, reason):
    """Found by bench/fuzz_service.py: a repeated dim passed validation and numpy raised (INTERNAL)."""
    check, _ = stub
    message = request(leaf("x", [2, 3], [0.5] * 6), op("p", "permute", ["x"], dims=pb.AttrValue(
        ints_value=pb.IntList(values=list(dims)))), op("out", "sum", ["p"]))
    with pytest.raises(grpc.RpcError) as err:
        check.Check(message, timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and reason in err.value.details()
    assert "graph.nodes[1]" in err.value.details()


def test_response_tier_is_the_request_enum_and_error_paths_are_real_fields(stub):
    check, _ = stub
    response = check.Check(GOOD, timeout=30)
    assert response.tier == pb.TIER_EXACT
    off = pb.CheckRequest()
    off.CopyFrom(GOOD)
    off.tier = pb.TIER_OFF
    assert check.Check(off, timeout=30).tier == pb.TIER_OFF
    vector = request(leaf("x", [3], [1.0, 2.0, 3.0]), op("out", "exp", ["x"]))  # no gradient for a vector root
    with pytest.raises(grpc.RpcError) as err:
        check.Check(vector, timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("gradient: grad can be implicitly created only for scalar outputs")
    field = pb.CheckRequest.DESCRIPTOR.fields_by_name
    assert "gradient" in field and "seed" not in field
