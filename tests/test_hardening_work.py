"""Work and memory a request can cause stay within what its size and the limits allow (issue 19):
finite differences hold one copy's live values, not every node's; programs of 1,000 steps are
refused up front or stopped at the deadline; the server keeps serving."""

from __future__ import annotations

import time
import tracemalloc

import grpc
import numpy as np
import pytest
from crossgrad.engine import cost, finite_diff
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric.batched import Batched
from crossgrad.v1 import crossgrad_pb2 as pb
from grpc_health.v1 import health_pb2

from .test_hardening import GOOD, leaf, op, request
from .test_hardening_intermediates import stub  # noqa: F401  (the module's server fixture)


def _chain(n: int, k: int) -> Graph:
    nodes: list = [Leaf("x", np.linspace(-1, 1, n), True)]
    for i in range(k):
        nodes.append(OpNode(f"t{i}", "tanh", (nodes[-1].name,)))
    return Graph((*nodes, OpNode("out", "sum", (nodes[-1].name,))), "out")


def test_a_batch_holds_one_copys_live_values_not_every_nodes():
    plan = validate(_chain(1_000, 300))
    leaf = plan.grad_leaves()[0]
    assert Batched(plan, {}).widest([leaf]) == 3 * 1_000  # the leaf's stack, one node's input and output


def test_finite_differences_of_a_long_wide_chain_stay_small():
    """1,000 elements through 300 tanh nodes: per element this held 300 x 2,000 copies x 1,000
    elements (4.8 GB); now the copies of a node are dropped after their last use, and copies this
    dear go along directions."""
    plan = validate(_chain(1_000, 300))
    assert finite_diff.planned_work(plan)[0] == "directions"
    tracemalloc.start()
    fd = finite_diff.finite_differences(plan, np.ones(()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert fd.mode == "directions" and peak < 100e6
    slope = fd.slopes[plan.grad_leaves()[0]]
    signs = fd.directions[plan.grad_leaves()[0]].astype(float) / np.sqrt(1_000)
    x = np.linspace(-1, 1, 1_000)
    exact = np.ones_like(x)
    for _ in range(300):  # d/dx of tanh^300(x), by the chain rule
        exact, x = exact * (1 - np.tanh(x) ** 2), np.tanh(x)
    np.testing.assert_allclose(slope, signs @ exact, rtol=1e-6, atol=1e-9)


def test_per_element_differences_stay_per_element_when_cheap():
    plan = validate(_chain(50, 3))
    mode, work = finite_diff.planned_work(plan)
    assert (mode, work) == ("per_element", 2 * 50 * (3 * 50 + 1))


def _program(n_backward: int) -> list:
    steps = []
    for _ in range(n_backward):
        steps += [pb.Step(kind=pb.STEP_KIND_ZERO_GRAD), pb.Step(kind=pb.STEP_KIND_FORWARD),
                  pb.Step(kind=pb.STEP_KIND_BACKWARD), pb.Step(kind=pb.STEP_KIND_SGD_STEP, lr=0.01)]
    return steps[:1_000]


def _wide_net(n: int) -> list:
    return [leaf("x", [n, 64], np.linspace(-1, 1, n * 64).tolist()), leaf("w", [64, 64], np.eye(64).ravel().tolist()),
            op("h", "matmul", ["x", "w"]), op("t", "tanh", ["h"]), op("out", "sum", ["t"])]


def test_a_program_of_1000_steps_too_dear_is_refused_up_front(stub):  # noqa: F811
    check, health = stub
    message = request(*_wide_net(16_000), program=_program(250), figures_only=True)  # 250 backward steps x 2M elements
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        check.Check(message, timeout=30)
    assert time.monotonic() - started < 5
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "witnesses" in err.value.details() and "every backward step" in err.value.details()
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


def test_a_program_within_the_limits_stops_at_the_deadline(stub):  # noqa: F811
    """1,000 steps of a graph cheap enough to pass the estimate but not to finish in 2 s: stopped
    between steps (DEADLINE_EXCEEDED), not run to the end in the background."""
    check, health = stub
    message = request(*_wide_net(3_000), program=_program(250), tier=pb.TIER_TENSOR, figures_only=True)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        check.Check(message, timeout=2)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    time.sleep(0.5)
    assert check.Check(GOOD, timeout=30).verdict == pb.VERDICT_AGREE
    assert time.monotonic() - started < 8
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


def test_the_estimate_counts_every_backward_step():
    plan = validate(_chain(10, 2))
    one = cost.element_evaluations(plan, ("numeric", "finite_difference"), "off", None)
    steps = [type("S", (), {"kind": k})() for k in ("zero_grad", "backward", "sgd_step", "backward")]
    assert cost.element_evaluations(plan, ("numeric", "finite_difference"), "off", steps) == 2 * one


def test_order_2_costs_a_few_differentiations_per_hessian_vector_product():
    plan = validate(_chain(10, 2))  # 10 differentiable elements: the full Hessian, 10 products
    assert cost.element_evaluations(plan, ("numeric",), "off", None, order=2) == \
        10 * 4 * cost.NUMERIC_PASSES * cost.intermediate_elements(plan)


def _swelling(depth: int) -> list:
    """t = tanh(a); a' = t * a, repeated: a DAG of 2 x depth nodes whose expression written out
    as a tree doubles every step (found by bench/fuzz_service.py: an order-2 check of such a graph
    held a server thread in SymPy's printer for minutes)."""
    nodes = [leaf("x", [2], [0.5, 0.7])]
    for i in range(depth):
        nodes += [op(f"t{i}", "tanh", [nodes[-1].name]), op(f"m{i}", "mul", [f"t{i}", nodes[-1].name])]
    return nodes + [op("out", "sum", [nodes[-1].name])]


@pytest.mark.parametrize("fields", [{"order": 2}, {"formulas": True}])
def test_expressions_that_swell_when_written_out_are_not_written_out(stub, fields):  # noqa: F811
    check, health = stub
    started = time.monotonic()
    answer = check.Check(request(*_swelling(14), **fields), timeout=30)
    assert time.monotonic() - started < 5
    assert answer.verdict == pb.VERDICT_AGREE
    if "order" in fields:  # the exact tier says why not; the tensor tier answers instead
        assert "too large to write out" in answer.tier_reason and answer.tier == pb.TIER_TENSOR
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


def test_a_second_derivative_that_goes_complex_is_not_a_number_not_an_error():
    """sqrt at a negative element: SymPy's H is complex there (fuzz_service found this as
    INTERNAL); it is NaN like the numeric witness's, a non-finite element, never an exception."""
    from crossgrad.engine.check import CheckRequest, check

    graph = Graph((Leaf("x", np.array([-0.5, 0.7]), True), OpNode("r", "sqrt", ("x",)),
                   OpNode("out", "sum", ("r",))), "out")
    report = check(CheckRequest(graph, order=2))
    assert report.verdict in ("non_finite", "agree") and report.leaves[0].pairs
    assert np.isnan(report.leaves[0].grads["symbolic"]).any()
