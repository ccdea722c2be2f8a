"""Untrusted input: every bad request gets a documented status naming the field, and the server
keeps serving (each case is followed by a valid request). Plus a bounded fuzz run."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from crossgrad.client import wire
from crossgrad.server.app import create_server
from crossgrad.server.limits import Limits
from crossgrad.v1 import crossgrad_pb2 as pb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DOCUMENTED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED}


def leaf(name, shape, data, dtype=pb.DTYPE_FLOAT64, grad=True):
    t = pb.Tensor(shape=shape, dtype=dtype)
    (t.int_data if dtype == pb.DTYPE_INT64 else t.data).extend(data)
    return pb.Node(name=name, leaf=pb.Leaf(value=t, requires_grad=grad))


def op(name, kind, inputs, **attrs):
    return pb.Node(name=name, op=pb.Op(op=kind, inputs=inputs, attrs={k: v for k, v in attrs.items()}))


def request(*nodes, **fields):
    return pb.CheckRequest(graph=pb.Graph(nodes=list(nodes)), **fields)


GOOD = request(leaf("x", [3], [1.0, 2.0, 3.0]), op("out", "sum", ["x"]))
EVIL = "__import__('os').system('touch /tmp/crossgrad_pwned')"

BAD = {
    "empty graph": (request(), "graph.nodes"),
    "duplicate names": (request(leaf("x", [1], [1.0]), leaf("x", [1], [1.0])), "graph.nodes[1].name"),
    "dangling input": (request(leaf("x", [1], [1.0]), op("out", "exp", ["zz"])), "graph.nodes[1].inputs[0]"),
    "input from the future (a cycle)": (request(op("a", "exp", ["b"]), op("b", "exp", ["a"])),
                                        "graph.nodes[0].inputs[0]"),
    "unknown op": (request(leaf("x", [1], [1.0]), op("out", "frobnicate", ["x"])), "graph.nodes[1].op"),
    "unspecified op": (request(leaf("x", [1], [1.0]), op("out", "", ["x"])), "graph.nodes[1].op"),
    "injection as op": (request(leaf("x", [1], [1.0]), op("out", EVIL, ["x"])), "graph.nodes[1].op"),
    "injection as name": (request(leaf("x", [1], [1.0]), op("out", "exp", [EVIL])), "graph.nodes[1].inputs[0]"),
    "injection as attr": (request(leaf("x", [2], [1.0, 2.0]), op("out", "sum", ["x"],
                                                                  dim=pb.AttrValue(string_value=EVIL))),
                          "graph.nodes[1].attrs.dim"),
    "injection as root": (request(leaf("x", [1], [1.0]), root=EVIL), "output"),
    "wrong arity": (request(leaf("x", [1], [1.0]), op("out", "add", ["x"])), "graph.nodes[1].inputs"),
    "unknown attribute": (request(leaf("x", [1], [1.0]), op("out", "sum", ["x"],
                                                              keepdims=pb.AttrValue(bool_value=True))),
                          "graph.nodes[1].attrs.keepdims"),
    "attribute of the wrong type": (request(leaf("x", [1], [1.0]), op("out", "softmax", ["x"],
                                                                        dim=pb.AttrValue(float_value=0.5))),
                                    "graph.nodes[1].attrs.dim"),
    "negative dim": (request(leaf("x", [-1], [])), "graph.nodes[0].leaf.value.shape"),
    "data length mismatch": (request(leaf("x", [2, 2], [1.0])), "graph.nodes[0].leaf.value.data"),
    "no dtype": (request(leaf("x", [1], [1.0], dtype=pb.DTYPE_UNSPECIFIED)), "graph.nodes[0].leaf.value.dtype"),
    "int leaf requiring grad": (request(leaf("x", [1], [1], dtype=pb.DTYPE_INT64)),
                                "graph.nodes[0].requires_grad"),
    "target out of range": (request(leaf("x", [2, 3], [0.0] * 6), leaf("t", [2], [0, 7], pb.DTYPE_INT64, False),
                                    op("out", "cross_entropy", ["x", "t"])), "graph.nodes[2].inputs[1]"),
    "shape mismatch": (request(leaf("a", [2, 3], [0.0] * 6), leaf("b", [4, 3], [0.0] * 12),
                               op("out", "matmul", ["a", "b"])), "graph.nodes[2]"),
    "unknown program step": (request(leaf("x", [1], [1.0]), program=[pb.Step(kind=pb.STEP_KIND_UNSPECIFIED)]),
                             "program[0].kind"),
}
def chain(n):
    nodes = [leaf("x0", [1], [0.5])]
    nodes += [op(f"x{k + 1}", "neg", [f"x{k}"]) for k in range(n)]
    return request(*nodes)


OVER_LIMIT = {
    "too deep": (chain(5001), "graph.nodes[5001].op.inputs"),
    "huge dims": (request(leaf("x", [10**9, 10**9], [])), "graph.nodes[0].leaf.value.shape"),
    "too many dims": (request(leaf("x", [1] * 9, [1.0])), "graph.nodes[0].leaf.value.shape"),
    "exact tier over budget": (request(leaf("a", [1, 2000], [0.0] * 2000), leaf("b", [2000, 2000], [0.0] * 4_000_000),
                                       op("out", "matmul", ["a", "b"]), op("s", "sum", ["out"]),
                                       tier=pb.TIER_EXACT), "tier"),
}


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}",
                               options=[("grpc.max_send_message_length", 200 * 1024 * 1024)]) as ch:
        yield ch


def call(channel, message, timeout=30):
    stub = wire.Stub(channel)
    return stub.Check(message, timeout=timeout)


def violation(err):
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(err)
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return bad.field_violations[0].field
    return None


def assert_still_serving(channel):
    assert call(channel, GOOD).verdict == pb.VERDICT_AGREE


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_invalid_argument_naming_the_field(channel, case):
    message, field = BAD[case]
    with pytest.raises(grpc.RpcError) as err:
        call(channel, message)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert violation(err.value) == field
    assert "Traceback" not in err.value.details()
    assert_still_serving(channel)


@pytest.mark.parametrize("case", sorted(OVER_LIMIT))
def test_over_a_limit_is_resource_exhausted_naming_the_field(channel, case):
    message, field = OVER_LIMIT[case]
    with pytest.raises(grpc.RpcError) as err:
        call(channel, message)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value.details()
    assert violation(err.value) == field
    assert_still_serving(channel)


@pytest.mark.parametrize("values", [[float("nan"), 1.0, 2.0], [float("inf"), 1.0, 2.0], [-0.0, 5e-324, 1.0]])
def test_special_float_values_are_reported_not_crashed(channel, values):
    response = call(channel, request(leaf("x", [3], values), op("l", "log", ["x"]), op("out", "sum", ["l"])))
    assert response.verdict in (pb.VERDICT_NON_FINITE, pb.VERDICT_AGREE, pb.VERDICT_MISMATCH)
    assert_still_serving(channel)


@pytest.mark.parametrize("expr", ["sqrt", "exp_big", "div_zero"])
def test_domain_errors_are_non_finite(channel, expr):
    nodes = {"sqrt": [leaf("x", [2], [-1.0, 4.0]), op("y", "sqrt", ["x"])],
             "exp_big": [leaf("x", [2], [1000.0, 1.0]), op("y", "exp", ["x"])],
             "div_zero": [leaf("x", [2], [1.0, 2.0]), leaf("z", [2], [0.0, 1.0], grad=False),
                          op("y", "div", ["x", "z"])]}
    response = call(channel, request(*nodes[expr], op("out", "sum", ["y"])))
    assert response.verdict == pb.VERDICT_NON_FINITE
    assert_still_serving(channel)


def test_a_one_megabyte_name_and_an_oversized_message(channel):
    big = "n" * (1 << 20)
    with pytest.raises(grpc.RpcError) as err:
        call(channel, request(leaf(big, [1], [1.0]), op("out", "exp", ["missing"])))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    huge = request(leaf("x", [9_000_000], [0.0] * 9_000_000))  # ~72 MB > the 64 MiB message limit
    with pytest.raises(grpc.RpcError) as err:
        call(channel, huge)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_still_serving(channel)


def test_zero_size_tensors_are_fine(channel):
    response = call(channel, request(leaf("x", [0, 3], []), op("out", "sum", ["x"])))
    assert response.verdict == pb.VERDICT_AGREE
    assert list(response.leaves[0].shape) == [0, 3]


def test_non_utf8_names_and_oversized_metadata(channel):
    raw = GOOD.SerializeToString().replace(b"\x0a\x01x", b"\x0a\x01\xff", 1)  # node name byte 0xff
    call_raw = channel.unary_unary("/crossgrad.v1.CrossgradService/Check")
    with pytest.raises(grpc.RpcError) as err:
        call_raw(raw, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "not a CheckRequest message" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        wire.Stub(channel).Check(GOOD, timeout=10, metadata=[("x-junk", "a" * 65536)])
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_still_serving(channel)


def test_deeply_shared_nodes_do_not_blow_up(channel):
    nodes = [leaf("x0", [1], [0.5])]
    for k in range(60):  # x_{k+1} = x_k * x_k + x_k: a 2^60-term expression if expanded
        nodes += [op(f"m{k}", "mul", [f"x{k}", f"x{k}"]), op(f"x{k + 1}", "add", [f"m{k}", f"x{k}"])]
    nodes.append(op("out", "sum", ["x60"]))
    start = time.monotonic()
    response = call(channel, request(*nodes, tier=pb.TIER_EXACT))
    assert time.monotonic() - start < 10
    assert response.verdict in (pb.VERDICT_AGREE, pb.VERDICT_NON_FINITE)


def test_above_the_concurrency_limit_is_resource_exhausted_and_health_stays_serving():
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    running = create_server(port=0, limits=Limits(max_concurrent_requests=1))
    slow = request(leaf("a", [2, 100], [0.5] * 200), leaf("w", [100, 100], [0.01] * 10_000),
                   op("m", "matmul", ["a", "w"]), op("t", "tanh", ["m"]), op("out", "sum", ["t"]),
                   tier=pb.TIER_EXACT)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as ch:
            worker = threading.Thread(target=lambda: call(ch, slow, timeout=60))
            worker.start()
            time.sleep(0.3)
            start = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                call(ch, GOOD, timeout=10)
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() - start < 2
            health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            worker.join()
    finally:
        running.stop(0)


names = st.sampled_from(["x", "y", "out", "", "zz", EVIL])
ops_ = st.sampled_from(["add", "mul", "exp", "sum", "matmul", "softmax", "cross_entropy", "nope", ""])
attr = st.one_of(st.builds(lambda v: pb.AttrValue(int_value=v), st.integers(-3, 3)),
                 st.builds(lambda v: pb.AttrValue(string_value=v), st.text(max_size=8)),
                 st.builds(lambda v: pb.AttrValue(float_value=v), st.floats(allow_nan=True)))
fuzz_leaf = st.builds(lambda n, shape, data, dt, g: leaf(n, shape, data, dt, g), names,
                      st.lists(st.integers(-2, 4), max_size=3), st.lists(st.floats(allow_nan=True), max_size=8),
                      st.sampled_from([pb.DTYPE_FLOAT32, pb.DTYPE_FLOAT64, pb.DTYPE_UNSPECIFIED]), st.booleans())
fuzz_op = st.builds(lambda n, k, ins, a: op(n, k, ins, dim=a), names, ops_, st.lists(names, max_size=3), attr)
fuzz_request = st.builds(lambda nodes, tier: request(*nodes, tier=tier),
                         st.lists(st.one_of(fuzz_leaf, fuzz_op), max_size=5), st.sampled_from([0, 1, 2, 3, 4]))


@settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=fuzz_request)
def test_fuzzed_requests_get_only_documented_statuses(channel, message):
    try:
        call(channel, message, timeout=20)
    except grpc.RpcError as err:
        assert err.code() in DOCUMENTED, (err.code(), err.details())


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_bytes_get_only_documented_statuses(channel, data):
    raw = bytearray(GOOD.SerializeToString())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    call_raw = channel.unary_unary("/crossgrad.v1.CrossgradService/Check")
    try:
        call_raw(bytes(raw), timeout=20)
    except grpc.RpcError as err:
        # bytes that are not a CheckRequest are INVALID_ARGUMENT too (never gRPC's own INTERNAL)
        assert err.code() in DOCUMENTED, (err.code(), err.details())


def test_an_internal_bug_is_internal_not_the_clients_fault(channel, monkeypatch):
    """A ValueError in crossgrad's own comparison code is INTERNAL with a generic message and is
    logged; it is not passed off as the client's invalid argument."""
    from crossgrad.engine import check as check_module

    def broken(*args, **kwargs):
        raise ValueError("planted: operands could not be broadcast together")

    monkeypatch.setattr(check_module, "compare_leaves", broken)
    with pytest.raises(grpc.RpcError) as err:
        call(channel, GOOD)
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "planted" not in err.value.details() and "Traceback" not in err.value.details()
    monkeypatch.undo()
    assert_still_serving(channel)


def test_a_failing_numeric_witness_is_a_finding_about_it(channel, monkeypatch):
    """A numeric forward rule that raises is the numeric witness's failure: a mismatch with numeric
    the suspect (issue 20), not an error of the call."""
    from crossgrad.engine.numeric import rules
    from crossgrad.engine.numeric.ruletools import Rule

    def broken(xs, at):
        raise ValueError("planted: operands could not be broadcast together")

    monkeypatch.setitem(rules.RULES, "sum", Rule(broken, rules.RULES["sum"].vjp))
    response = call(channel, GOOD)
    assert response.verdict == pb.VERDICT_MISMATCH and response.leaves[0].suspect == pb.WITNESS_NUMERIC
    assert "the numeric witness failed: ValueError: planted" in response.leaves[0].comparisons[0].reason
    monkeypatch.undo()
    assert_still_serving(channel)
