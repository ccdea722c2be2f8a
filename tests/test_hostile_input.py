"""Findings of the hostile-input campaign (bench/hostile_service.py), each pinned: hidden buffers of
convolutions and pooling count against the limits, empty tensors get typed errors instead of
crashes or false verdicts, nonsense tolerances, witnesses and tiers are refused by field, and an
order-2 check through a float32 cast is judged at float32 precision."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import DimError, FieldError, ShapeError
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate
from crossgrad.engine.tolerance import Tolerance
from crossgrad.server import wire as server_wire
from crossgrad.server.limits import LimitError, Limits
from crossgrad.v1 import crossgrad_pb2 as pb

RNG = np.random.default_rng(0)


def _graph(op: str, x_shape: tuple, w_shape: tuple | None = None, **attrs) -> Graph:
    nodes = [Leaf("x", RNG.standard_normal(x_shape), True)]
    if w_shape is not None:
        nodes.append(Leaf("w", RNG.standard_normal(w_shape), True))
    nodes += [OpNode("c", op, tuple(n.name for n in nodes), attrs), OpNode("loss", "sum", ("c",))]
    return Graph(tuple(nodes), "loss")


@pytest.mark.parametrize("graph, what", [
    # small output, padded input of 100,002^2 elements (was a MemoryError: INTERNAL)
    (_graph("conv2d", (1, 1, 2, 2), (1, 1, 2, 2), padding=(50000, 50000), dilation=(100000, 100000)), "padded input"),
    (_graph("max_pool2d", (1, 1, 2, 2), kernel_size=(200001, 200001), padding=(100000, 100000)), "padded input"),
    (_graph("avg_pool2d", (1, 1, 2, 2), kernel_size=(200001, 200001), padding=(100000, 100000)), "padded input"),
    # 101 x 101 windows of 10,000 taps copied for the argmax: 1e8 elements from a 40,000-element input
    (_graph("max_pool2d", (1, 1, 200, 200), kernel_size=(100, 100), stride=(1, 1)), "window copy"),
    (_graph("conv_transpose2d", (1, 1, 2, 2), (1, 1, 2, 2), padding=(50000, 50000), dilation=(100000, 100000)),
     "output before cropping"),
])
def test_hidden_buffers_of_convolutions_and_pooling_count_against_the_element_limit(graph, what):
    with pytest.raises(LimitError, match=what) as err:
        Limits().check_plan(validate(graph), CheckRequest(graph))
    assert err.value.path == "graph.nodes[1]" or err.value.path == "graph.nodes[2]"


def test_ordinary_convolutions_and_pools_stay_within_the_limits():
    for graph in (_graph("conv2d", (8, 3, 32, 32), (16, 3, 3, 3), padding=(1, 1)),
                  _graph("max_pool2d", (8, 16, 32, 32), kernel_size=(3, 3), padding=(1, 1))):
        Limits().check_plan(validate(graph), CheckRequest(graph))


@pytest.mark.parametrize("op, attrs, error, words", [
    ("amax", {"dim": None}, ShapeError, r"amax\(\): Expected reduction dim to be specified for input.numel\(\) == 0"),
    ("max_all", {}, ShapeError, r"max\(\): Expected reduction dim to be specified"),
    ("amin", {"dim": (0,)}, DimError, r"amin\(\): Expected reduction dim 0 to have non-zero size"),
    ("max_dim", {"dim": 0}, DimError, r"max\(\): Expected reduction dim 0 to have non-zero size"),
])
def test_an_empty_max_or_min_is_torchs_error_not_numpys(op, attrs, error, words):
    graph = Graph((Leaf("x", np.zeros((0, 3)), True), OpNode("m", op, ("x",), attrs), OpNode("l", "sum", ("m",))), "l")
    with pytest.raises(GraphError, match=words) as err:  # was a ValueError from numpy: INTERNAL over the wire
        validate(graph)
    assert err.value.path == "graph.nodes[1]"
    import crossgrad

    with pytest.raises(error, match=words):
        getattr(crossgrad.zeros(0, 3), op.replace("_all", "").replace("_dim", ""))(**attrs)


@pytest.mark.parametrize("nodes, path", [
    # conv2d of an empty batch: the numeric witness failed and was named the suspect of a mismatch
    ((Leaf("x", np.zeros((0, 1, 4, 4)), True), Leaf("w", np.ones((1, 1, 2, 2)), True),
      OpNode("c", "conv2d", ("x", "w")), OpNode("l", "sum", ("c",))), "graph.nodes[2]"),
    # cumsum of an empty leaf then sum: a ValueError in process
    ((Leaf("x", np.zeros((0, 3)), True), OpNode("c", "cumsum", ("x",), {"dim": 1}), OpNode("l", "sum", ("c",))),
     "graph.nodes[1]"),
    # prod over an empty dim (output 3 ones): a false mismatch
    ((Leaf("x", np.zeros((3, 0)), True), OpNode("c", "prod", ("x",), {"dim": 1}), OpNode("l", "sum", ("c",))),
     "graph.nodes[1].inputs[0]"),
])
def test_empty_tensors_into_ops_beyond_sum_and_mean_are_refused_by_field(nodes, path):
    with pytest.raises(GraphError) as err:
        check(CheckRequest(Graph(nodes, "l")))
    assert err.value.path == path and "elements" in err.value.reason


def test_sum_over_an_empty_dim_is_checked():
    graph = Graph((Leaf("x", np.zeros((3, 0)), True), OpNode("s", "sum", ("x",), {"dim": (1,)}),
                   OpNode("l", "sum", ("s",))), "l")
    assert check(CheckRequest(graph)).verdict == "agree"  # SymPy's rows of an empty dim (was a ValueError)


def test_avg_pool2d_refuses_a_zero_divisor_as_torch():
    with pytest.raises(GraphError, match="divisor must be not zero"):  # 0 was taken as "no override"
        validate(_graph("avg_pool2d", (1, 1, 4, 4), kernel_size=(2, 2), divisor_override=0))


@pytest.mark.parametrize("rtol, atol, floor", [(float("nan"), 1e-6, 0.0), (-1.0, 1e-6, 0.0), (1e-3, float("inf"), 0.0),
                                              (1e-3, 1e-6, -1e-9)])
def test_a_nan_negative_or_infinite_tolerance_is_refused(rtol, atol, floor):
    with pytest.raises(FieldError, match="tolerance"):  # NaN made everything agree, negative everything mismatch
        Tolerance(rtol, atol, floor)
    message = pb.CheckRequest(graph=pb.Graph(nodes=[pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(
        shape=[1], dtype=pb.DTYPE_FLOAT64, data=[1.0]), requires_grad=True))]), tolerance=pb.Tolerance(
        rtol=rtol, atol=atol, floor=floor))
    with pytest.raises(FieldError) as err:
        server_wire.request_in(message, Limits())
    assert err.value.path.startswith("tolerance.")


@pytest.mark.parametrize("field, value, path", [("witnesses", [pb.WITNESS_NUMERIC, 99], "witnesses[1]"),
                                                ("tier", 99, "tier")])
def test_unknown_enum_values_are_refused_not_replaced_by_defaults(field, value, path):
    message = pb.CheckRequest(graph=pb.Graph(nodes=[pb.Node(name="x", leaf=pb.Leaf(value=pb.Tensor(
        shape=[1], dtype=pb.DTYPE_FLOAT64, data=[1.0]), requires_grad=True))]))
    if field == "tier":
        message.tier = value
    else:
        message.witnesses.extend(value)
    with pytest.raises(GraphError) as err:
        server_wire.request_in(message, Limits())
    assert err.value.path == path


def test_a_misspelt_witness_is_refused_in_process():
    graph = _graph("tanh", (3,))
    with pytest.raises(GraphError, match="unknown witness 'numerc'"):  # was: verdict skipped, nothing checked
        check(CheckRequest(graph, witnesses=("numerc", "symbolic")))


def test_order_2_through_a_float32_cast_is_judged_at_float32():
    """tanh(x.float()).sum(): the engine's Hessian carries float32 rounding (rel ~1e-7), so float64
    tolerances called a right answer a mismatch; finite differences also differentiated a gradient
    rounded to float32 (rel ~5e-3). Now: finite differences pass the cast unrounded, tolerances
    follow the leaf's precision."""
    x = np.random.default_rng(0).standard_normal(3)
    graph = Graph((Leaf("x", x, True), OpNode("t", "to_dtype", ("x",), {"dtype": "float32"}),
                   OpNode("q", "tanh", ("t",)), OpNode("l", "sum", ("q",))), "l")
    report = check(CheckRequest(graph, order=2))
    assert report.verdict == "agree", [(p.witnesses, p.verdict, p.max_rel) for p in report.leaves[0].pairs]
    want = np.diag(-2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(report.leaves[0].grads["finite_difference"], want, rtol=1e-6, atol=1e-9)
    assert report.leaves[0].dtype == "float64"


def test_order_2_of_a_small_graph_with_a_huge_gradient_tree_leaves_sympy_to_the_tensor_tier():
    """A 4x3 training batch_norm has 12 elements but a 12,876-node gradient: SymPy differentiating
    it again and lambdify took 14-40 s in the request thread (cold, any new shape); now the tensor
    tier answers."""
    x = np.random.default_rng(0).standard_normal((4, 3))
    graph = Graph((Leaf("x", x, True), OpNode("n", "batch_norm", ("x",), {"training": True}),
                   OpNode("q", "tanh", ("n",)), OpNode("l", "sum", ("q",))), "l")
    report = check(CheckRequest(graph, order=2))
    assert (report.verdict, report.tier) == ("agree", "tensor")
    assert "differentiate again" in report.tier_reason


def _normalized_pairs(op: str) -> Graph:
    """Two elements normalized together (batch 2 / a 2-element layer), float32, times weights."""
    x = np.random.default_rng(5).standard_normal((2, 3) if op == "batch_norm" else (3, 2)).astype(np.float32)
    w = np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)
    attrs = {"training": True} if op == "batch_norm" else {"normalized_shape": (2,)}
    return Graph((Leaf("x", x, True), Leaf("w", w), OpNode("n", op, ("x",), attrs), OpNode("q", "mul", ("n", "w")),
                  OpNode("l", "sum", ("q",))), "l")


@pytest.mark.parametrize("op", ["batch_norm", "layer_norm"])
def test_a_normalization_of_two_elements_in_float32_is_not_a_false_mismatch(op):
    """Its input gradient cancels for every adjoint (x_hat = +-1), so the floor's sign-scrambled
    magnitude was the cancelled value: the engine's right float32 gradient was a mismatch with
    SymPy (and torch's, claimed). A planted 10% error in the largest element is still caught (the
    float32 noise here is ~0.2% of the gradient: 1% in the layer_norm case is within the floor)."""
    graph = _normalized_pairs(op)
    report = check(CheckRequest(graph))
    assert report.verdict == "agree", [(p.witnesses, p.verdict, p.max_abs) for p in report.leaves[0].pairs]
    wrong = np.array(report.leaves[0].grads["symbolic"], np.float32)
    wrong.flat[np.abs(wrong).argmax()] *= 1.1
    assert check(CheckRequest(graph, claimed={"x": wrong})).verdict == "mismatch"


@pytest.mark.parametrize("op", ["batch_norm", "layer_norm"])
def test_torchs_float32_gradient_of_a_two_element_normalization_agrees(op):
    torch = pytest.importorskip("torch")
    graph = _normalized_pairs(op)
    x, w = (torch.tensor(n.value) for n in graph.nodes[:2])
    x.requires_grad_()
    norm = torch.nn.functional.batch_norm(x, None, None, training=True) if op == "batch_norm" else \
        torch.nn.functional.layer_norm(x, (2,))
    (norm * w).sum().backward()
    report = check(CheckRequest(graph, claimed={"x": x.grad.numpy()}))
    assert report.verdict in ("agree", "unresolved")  # was mismatch; elements of ~1e-6 are within the noise


def _tie(x):  # noqa: ANN001, ANN202
    import crossgrad

    w = crossgrad.tensor([0.3, -0.7, 1.1, 0.9], dtype=crossgrad.float64)
    return x.amax(dim=1).pow(2).sum() + (x.pow(2) * w).sum()


def test_order_2_at_a_tie_where_the_gradient_jumps_is_a_convention_and_a_planted_bug_is_still_caught(monkeypatch):
    """amax(x)^2 at a tie [3, 3]: the gradient jumps (the even split goes to one element), so no
    second derivative exists and the one-sided quotients are both ~jump/h (equal: the even split
    is their midpoint) — this was a mismatch naming finite differences. pow's VJP with x detached
    still fails at an element off the tie."""
    import crossgrad
    from crossgrad.engine.numeric.rules import RULES
    from crossgrad.engine.numeric.ruletools import Rule

    def x():  # noqa: ANN202
        return crossgrad.tensor([[1.0, 3.0, 3.0, 0.5]], dtype=crossgrad.float64, requires_grad=True)

    assert crossgrad.check(_tie(x()), order=2).verdict == "convention"
    good = RULES["pow"]

    def detached(g, saved, node):  # noqa: ANN001, ANN202
        v = saved[0]._data if hasattr(saved[0], "_data") else saved[0]
        return (g * node.attrs["exponent"] * v ** (node.attrs["exponent"] - 1),)

    monkeypatch.setitem(RULES, "pow", Rule(good.forward, detached))
    report = crossgrad.check(_tie(x()), order=2)
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric"
    numeric_fd = next(p for p in report.leaves[0].pairs if p.witnesses == ("numeric", "finite_difference"))
    assert (0, 0, 0) in numeric_fd.mismatched_indices and (3, 0, 3) in numeric_fd.mismatched_indices
