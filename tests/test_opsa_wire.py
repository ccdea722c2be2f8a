"""The issue-11 part-A ops over the wire: a bool condition travels as DTYPE_BOOL (values 0/1 in
int_data), a masked graph checks remotely as locally, bad bool values are a field violation."""

from __future__ import annotations

import crossgrad
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.client import InvalidRequest, wire
from crossgrad.engine.graph import GraphError
from crossgrad.server import wire as server_wire
from crossgrad.server.limits import Limits
from crossgrad.v1 import crossgrad_pb2 as pb


def test_bool_tensor_round_trip_and_bad_values():
    arr = np.array([[True, False, True]])
    msg = wire.tensor_out(arr)
    assert msg.dtype == pb.DTYPE_BOOL and list(msg.int_data) == [1, 0, 1]
    back = server_wire.tensor_in(msg, "graph.nodes[0].value", Limits())
    assert back.dtype == np.bool_ and (back == arr).all()
    assert (wire.tensor_in(msg) == arr).all()
    bad = pb.Tensor(shape=[2], dtype=pb.DTYPE_BOOL, int_data=[1, 2])
    with pytest.raises(GraphError, match=r"graph.nodes\[0\].value.int_data: the values of a DTYPE_BOOL"):
        server_wire.tensor_in(bad, "graph.nodes[0].value", Limits())


def _causal_loss():
    crossgrad.manual_seed(0)
    x = crossgrad.randn(3, 3, requires_grad=True)
    scores = crossgrad.where(crossgrad.tril(crossgrad.ones(3, 3)) > 0, x, float("-inf"))
    h = F.gelu(scores.softmax(-1) @ x)
    return x, (h.logsumexp(-1) + h.var(0, correction=0) + h.amax(1) + h.max(1).values).sum()


def test_masked_graph_checks_remotely_as_locally(client):
    x, loss = _causal_loss()
    remote = client.check(loss, names={"x": x})
    local = crossgrad.check(loss, names={"x": x})
    assert remote.verdict == local.verdict == "agree", str(remote)
    np.testing.assert_array_equal(remote.grad(x, "numeric"), local.grad(x, "numeric").astype(np.float64))


def test_a_float_condition_is_invalid_argument_at_the_field(client):
    x, loss = _causal_loss()
    graph, _ = crossgrad.engine.numeric.export.to_graph(loss, {id(x): "x"})
    nodes = [n if getattr(n, "value", None) is None or n.value.dtype != np.bool_
             else type(n)(n.name, n.value.astype(np.float32), False) for n in graph.nodes]
    request = crossgrad.engine.check.CheckRequest(graph=type(graph)(tuple(nodes), graph.output))
    with pytest.raises(InvalidRequest, match="condition of where must be a bool tensor"):
        client.check(request)
