"""Small model-surface items (issues 11/12): embedding with padding_idx checked by all three
witnesses, max_pool2d(return_indices=True) as torch, and convolutions whose im2col buffer is
over the server's element limit refused before anything is allocated. (split/chunk grad_fn
names: tests/test_opsb_shape.py.)"""

from __future__ import annotations

import crossgrad
import crossgrad.nn.functional as F
import grpc
import numpy as np
import pytest
from crossgrad.client import wire as client_wire
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.server.app import create_server
from crossgrad.server.limits import Limits
from crossgrad.server.limits_conv import im2col_elements
from crossgrad.v1 import crossgrad_pb2 as pb


def _embedding_loss(padding_idx=3):
    w = crossgrad.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    idx = crossgrad.tensor([[3, 0], [1, 3]])
    scale = crossgrad.arange(12.0, dtype=crossgrad.float64).view(2, 2, 3)
    return w, (F.embedding(idx, w, padding_idx=padding_idx) * scale).sum()


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_embedding_with_padding_idx_is_checked_by_all_three_witnesses(tier):
    """The padding row is read as a constant (torch: it does not contribute to the gradient):
    symbolic derives zero there, finite differences hold it at its value."""
    w, loss = _embedding_loss()
    report = crossgrad.check(loss, names={"w": w}, tier=tier)
    assert report.verdict == "agree" and report.tier == tier, str(report)
    want = np.zeros((5, 3))
    want[0], want[1] = [3, 4, 5], [6, 7, 8]
    for witness in ("numeric", "symbolic", "finite_difference"):
        np.testing.assert_allclose(report.grad(w, witness), want, atol=1e-8)


def test_an_embedding_vjp_that_forgets_padding_idx_is_caught_numeric_suspect(monkeypatch):
    rule = RULES["embedding"]

    def forgetful(g, saved, node):
        attrs = dict(node.attrs, padding_idx=None)
        return rule.vjp(g, saved, type("Node", (), {"attrs": attrs, "shapes": node.shapes})())

    monkeypatch.setitem(RULES, "embedding", Rule(rule.forward, forgetful))
    w, loss = _embedding_loss()
    report = crossgrad.check(loss, names={"w": w})
    entry = report.leaf(w)
    assert (entry.verdict, entry.suspect) == ("mismatch", "numeric")
    pair = next(p for p in entry.pairs if p.witnesses == ("numeric", "symbolic"))
    assert {tuple(i)[0] for i in pair.mismatched_indices} == {3}


POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(2, 3), stride=1, dilation=2, ceil_mode=True), dict(kernel_size=3, stride=2, ceil_mode=True)]


def _pool_input():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    x[0, 0, 0, :2] = 5.0  # a tie: torch returns the first maximum
    return x


@pytest.mark.parametrize("kw", POOLS, ids=[str(i) for i in range(len(POOLS))])
def test_max_pool2d_return_indices_are_torch_s_first_maximum_in_the_plane(kw):
    x = _pool_input()
    values, indices = F.max_pool2d(crossgrad.tensor(x, requires_grad=True), return_indices=True, **kw)
    assert values.grad_fn.name() == "MaxPool2DWithIndicesBackward0" and indices.dtype == crossgrad.int64
    plane = x.reshape(2, 3, -1)
    picked = np.take_along_axis(plane, indices.numpy().reshape(2, 3, -1), axis=2).reshape(values.shape)
    np.testing.assert_array_equal(picked, values.detach().numpy())
    assert indices.numpy()[0, 0, 0, 0] == 0 or "dilation" in kw  # the tie's first position
    torch = pytest.importorskip("torch")
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(indices.numpy(), ti.numpy())


def test_max_pool2d_module_with_return_indices_returns_the_pair():
    x = crossgrad.tensor(_pool_input())
    values, indices = crossgrad.nn.MaxPool2d(2, return_indices=True)(x)
    assert tuple(values.shape) == tuple(indices.shape) == (2, 3, 3, 3)
    np.testing.assert_array_equal(values.numpy(), F.max_pool2d(x, 2).numpy())


def _conv_request(x_shape, w_shape):
    rng = np.random.default_rng(1)
    x = crossgrad.tensor(rng.standard_normal(x_shape))
    w = crossgrad.tensor(rng.standard_normal(w_shape), requires_grad=True)
    graph, _ = to_graph(F.conv2d(x, w).sum(), {id(w): "w"})
    return graph


def test_im2col_elements_of_convolutions_from_declared_shapes():
    assert im2col_elements("conv2d", [(2, 4, 16, 16), (3, 4, 5, 5)], (2, 3, 12, 12)) == 2 * 144 * 4 * 25
    assert im2col_elements("conv_transpose2d", [(2, 4, 6, 6), (4, 3, 3, 3)], (2, 6, 13, 13), groups=2) == \
        2 * 36 * 2 * 3 * 9


def _violation(err):
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    for detail in rpc_status.from_call(err).details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return bad.field_violations[0].field
    return ""


def test_a_conv_whose_im2col_buffer_is_over_the_limit_is_resource_exhausted_naming_the_node():
    """Input 1,024 and output 288 elements, under the limit of 5,000; the im2col buffer
    (144 positions x 4 channels x 25 taps = 14,400) is not."""
    running = create_server("127.0.0.1", 0, limits=Limits(max_elements_per_tensor=5_000))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = client_wire.Stub(channel)
            big = client_wire.request_out(CheckRequest(_conv_request((1, 4, 16, 16), (2, 4, 5, 5))))
            with pytest.raises(grpc.RpcError) as err:
                stub.Check(big, timeout=30)
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            details = err.value.details()
            assert "conv2d" in details and "im2col" in details and "14,400" in details
            assert _violation(err.value).startswith("graph.nodes[")
            small = client_wire.request_out(CheckRequest(_conv_request((1, 4, 8, 8), (2, 4, 3, 3))))
            assert stub.Check(small, timeout=30).verdict == pb.VERDICT_AGREE  # 36 x 4 x 9 = 1,296: checked
    finally:
        running.stop(0)
