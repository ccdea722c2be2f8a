"""Integration tests against a real server on port 0: every RPC, health, reflection, errors
with field paths, streaming order, claimed gradients, programs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import crossgrad as torch
import crossgrad.nn.functional as F
import grpc
import numpy as np
import pytest
from crossgrad.client import AsyncClient, Client, InvalidRequest, OverLimit, wire
from crossgrad.engine import ops
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.graph import Graph, Leaf, OpNode
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

EXAMPLES = Path(__file__).parents[1] / "examples"


def seed_loss():
    torch.manual_seed(1)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    return w, b, F.binary_cross_entropy_with_logits(torch.matmul(torch.ones(5), w) + b, torch.zeros(3))


def test_remote_check_is_the_same_report_as_local(client):
    w, b, loss = seed_loss()
    remote = client.check(loss, names={"w": w, "b": b}, formulas=True)
    local = torch.check(loss, names={"w": w, "b": b})
    assert type(remote) is type(local) and remote.verdict == local.verdict == "agree"
    for witness in ("numeric", "symbolic", "finite_difference"):
        np.testing.assert_array_equal(remote.grad(b, witness), local.grad(b, witness).astype(np.float64))
    assert remote.grad_fns["add4"] == "AddBackward0"
    assert "b[0]" in remote.leaf("b").closed_form[0]
    assert str(remote).startswith("crossgrad check: AGREE")


def test_health_reports_serving(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "crossgrad.v1.CrossgradService"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(stub.ServerReflectionInfo(iter([request]), timeout=5))
        names = {s.name for s in reply.list_services_response.service}
        assert {"crossgrad.v1.CrossgradService", "grpc.health.v1.Health"} <= names


def test_list_ops_and_server_info(client):
    catalogue = {op["name"]: op for op in client.list_ops()}
    assert catalogue["add"]["grad_fn"] == "AddBackward0"
    assert catalogue["cross_entropy"]["attrs"][0]["name"] == "ignore_index"
    assert set(catalogue) == set(ops.CATALOGUE)  # every entry is listed
    info = client.server_info()
    assert info["version"] == "0.1.0" and int(info["limits"]["max_nodes"]) > 0
    assert "TIER_TENSOR" in info["tiers"]


@pytest.mark.parametrize(("nodes", "field", "text"), [
    ((Leaf("a", np.ones(3), True), OpNode("out", "exp", ("zz",))), "graph.nodes[1].inputs[0]", "unknown node"),
    ((Leaf("a", np.ones(3), True), OpNode("out", "frobnicate", ("a",))), "graph.nodes[1].op", "unknown op"),
    ((Leaf("a", np.ones(3), True), OpNode("out", "sum", ("a",), {"dim": "x"})), "graph.nodes[1].attrs.dim", ""),
    ((Leaf("a", np.ones(3), True), Leaf("a", np.ones(3), True)), "graph.nodes[1].name", "repeated"),
    ((Leaf("a", np.ones((2, 3)), True), Leaf("b", np.ones((4, 3)), True), OpNode("out", "matmul", ("a", "b"))),
     "graph.nodes[2]", "cannot be multiplied"),
])
def test_bad_graphs_get_field_violations(client, nodes, field, text):
    with pytest.raises(InvalidRequest) as err:
        client.check(CheckRequest(Graph(nodes, nodes[-1].name)))
    assert err.value.code == "INVALID_ARGUMENT"
    assert err.value.violations and err.value.violations[0][0] == field
    assert text in err.value.violations[0][1]
    assert "Traceback" not in err.value.message


def test_data_length_and_limits_are_checked_before_allocation(client):
    request = wire.request_out(CheckRequest(Graph((Leaf("a", np.ones(3), True),
                                                   OpNode("out", "sum", ("a",))), "out")))
    request.graph.nodes[0].leaf.value.data.pop()
    with pytest.raises(InvalidRequest) as err:
        client.check(request)
    assert err.value.violations[0][0] == "graph.nodes[0].leaf.value.data"
    request.graph.nodes[0].leaf.value.shape[:] = [10**6, 10**6]
    with pytest.raises(OverLimit) as err:
        client.check(request)
    assert err.value.violations[0][0] == "graph.nodes[0].leaf.value.shape"


def test_a_disagreement_is_a_normal_response(client):
    w, b, loss = seed_loss()
    right = torch.check(loss, names={"b": b}).grad(b, "symbolic")
    report = client.check(loss, names={"w": w, "b": b}, claimed={"b": -right})
    assert report.verdict == "mismatch"
    pair = next(p for p in report.leaf("b").pairs if p.witnesses == ("claimed", "symbolic"))
    assert pair.verdict == "mismatch" and pair.mismatched == 3


def test_stream_answers_in_order(client):
    losses = []
    for k in range(1, 6):
        x = torch.tensor([float(k)], dtype=torch.float64, requires_grad=True)
        losses.append((x * x).sum())
    reports = list(client.check_many(losses))
    assert [r.verdict for r in reports] == ["agree"] * 5
    assert [float(r.leaves[0].grads["symbolic"][0]) for r in reports] == [2.0, 4.0, 6.0, 8.0, 10.0]


def test_stream_error_names_the_request(client):
    good = seed_loss()[2]
    bad = CheckRequest(Graph((Leaf("a", np.ones(3), True), OpNode("out", "exp", ("zz",))), "out"))
    with pytest.raises(InvalidRequest) as err:
        list(client.check_many([good, bad]))
    assert err.value.violations[0][0] == "requests[1].graph.nodes[1].inputs[0]"


def test_a_bad_request_in_a_stream_gets_its_own_error_and_the_others_are_answered(client):
    """Mixed structures keep their order; the bad one is InvalidRequest naming its field."""
    x = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    square = (x * x).sum()
    bad = CheckRequest(Graph((Leaf("a", np.ones(3), True), OpNode("out", "exp", ("zz",))), "out"))
    over = CheckRequest(Graph((Leaf("a", np.ones(3), True), OpNode("out", "tanh", ("a",))), "out"),
                        seed=np.ones(4))
    answers = list(client.check_many([seed_loss()[2], bad, square, over, square * 2], return_exceptions=True))
    assert len(answers) == 5
    assert [getattr(a, "verdict", None) for a in answers] == ["agree", None, "agree", None, "agree"]
    assert isinstance(answers[1], InvalidRequest) and answers[1].code == "INVALID_ARGUMENT"
    assert answers[1].violations == [("requests[1].graph.nodes[1].inputs[0]", answers[1].violations[0][1])]
    assert "requests[1].graph.nodes[1].inputs[0]" in answers[1].message
    assert isinstance(answers[3], InvalidRequest) and answers[3].violations[0][0].startswith("requests[3].")
    assert float(answers[2].leaves[0].grads["symbolic"][0]) == 6.0
    assert float(answers[4].leaves[0].grads["symbolic"][0]) == 12.0


def test_programs_run_remotely(client):
    report = client.check(EXAMPLES / "program.json")
    assert report.verdict == "agree"
    assert report.steps[0].kind == "backward" and report.steps[-1].kind == "final_parameters"


def test_async_client(server):
    async def run():
        async with AsyncClient(f"127.0.0.1:{server.port}") as client:
            one = await client.check(seed_loss()[2])
            many = [r.verdict async for r in client.check_many([seed_loss()[2]] * 3)]
            return one.verdict, many

    assert asyncio.run(run()) == ("agree", ["agree"] * 3)


def test_round_robin_over_two_servers_and_one_dying():
    from crossgrad.server.app import create_server

    a, b = create_server(port=0), create_server(port=0)
    try:
        with Client([f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"]) as client:
            assert all(client.check(seed_loss()[2]).verdict == "agree" for _ in range(4))
            a.stop(0)
            assert all(client.check(seed_loss()[2]).verdict == "agree" for _ in range(4))
    finally:
        b.stop(0)


def test_second_server_on_a_used_port_fails_loudly(server):
    from crossgrad.server.app import create_server

    with pytest.raises(OSError, match="cannot listen"):
        create_server("127.0.0.1", server.port)


def test_server_keeps_serving_after_bad_requests(client):
    for junk in (b"\x00\xff garbage", b"\x0a\x05trunc"):
        channel = client._channel
        call = channel.unary_unary("/crossgrad.v1.CrossgradService/Check")
        with pytest.raises(grpc.RpcError) as err:
            call(junk, timeout=5)
        assert err.value.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT)
    assert client.check(seed_loss()[2]).verdict == "agree"
