"""Issue 11 part-A elementwise ops beyond the catalogue-wide tests: the user-facing surface,
masks with -inf, and bad input named by op."""

from __future__ import annotations

import crossgrad
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import DtypeError
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate


def test_surface_names_and_values():
    x = crossgrad.tensor([-2.0, -0.25, 0.5, 3.0], requires_grad=True)
    assert crossgrad.square(x).tolist() == [4.0, 0.0625, 0.25, 9.0]
    assert x.clamp(-1, 1).tolist() == [-1.0, -0.25, 0.5, 1.0] == crossgrad.clip(x, -1, 1).tolist()
    assert x.clamp(max=0).tolist() == [-2.0, -0.25, 0.0, 0.0]
    assert F.hardtanh(x, -0.5, 0.5).tolist() == [-0.5, -0.25, 0.5, 0.5]
    assert F.leaky_relu(x, 0.1).tolist() == pytest.approx([-0.2, -0.025, 0.5, 3.0])
    assert F.elu(x).tolist() == pytest.approx([np.expm1(-2.0), np.expm1(-0.25), 0.5, 3.0])
    assert crossgrad.rsqrt(crossgrad.tensor([4.0])).item() == 0.5
    assert F.silu(x).grad_fn.name() == "SiluBackward0" and x.erf().grad_fn.name() == "ErfBackward0"
    assert F.gelu(x, approximate="tanh").grad_fn.name() == "GeluBackward0"


def test_where_with_scalar_and_broadcast_condition():
    x = crossgrad.tensor([[1.0, -2.0, 3.0]], dtype=crossgrad.float32, requires_grad=True)
    cond = crossgrad.tensor([[True], [False]])
    out = crossgrad.where(cond, x, 0.0)
    assert out.shape == (2, 3) and out.dtype is crossgrad.float32
    assert out.tolist() == [[1.0, -2.0, 3.0], [0.0, 0.0, 0.0]]
    out.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0]]
    assert x.where(x > 0, x * 2).tolist() == [[1.0, -4.0, 3.0]]


def test_masked_softmax_with_minus_inf_has_exact_zero_gradients_on_every_witness():
    x = crossgrad.tensor(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    causal = crossgrad.tensor(np.tril(np.ones((3, 3), bool)))
    probs = crossgrad.where(causal, x, float("-inf")).softmax(-1)
    loss = (probs * crossgrad.tensor(np.arange(9.0).reshape(3, 3))).sum()
    report = crossgrad.check(loss, tier="exact")
    assert report.verdict == "agree", str(report)
    loss.backward()
    assert (x.grad.numpy()[~np.tril(np.ones((3, 3), bool))] == 0).all()


def test_bool_where_a_float_is_needed_names_the_op():
    mask = crossgrad.tensor([True, False])
    for fn, op in ((F.gelu, "gelu"), (F.silu, "silu")):
        with pytest.raises(DtypeError, match=f"^{op}: input must be a floating point tensor"):
            fn(mask)
    # as torch: unary float ops promote bool/int to float32, clamp keeps integers integral
    assert crossgrad.sin(mask).dtype == crossgrad.float32
    assert crossgrad.clamp(mask, 0, 1).tolist() == [1, 0] and crossgrad.clamp(mask, 0, 1).dtype == crossgrad.int64
    with pytest.raises(DtypeError, match="^where: condition must be a bool tensor"):
        crossgrad.where(crossgrad.tensor([1.0, 0.0]), crossgrad.ones(2), crossgrad.zeros(2))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        crossgrad.clamp(crossgrad.ones(2))


def _graph(cond_value, op="where"):
    nodes = (Leaf("c", cond_value), Leaf("a", np.ones(3), True), Leaf("b", np.zeros(3), True),
             OpNode("w", op, ("c", "a", "b") if op == "where" else ("c",)))
    return Graph(nodes, "w")


def test_graph_dtypes_of_a_condition_are_checked_at_the_field():
    validate(_graph(np.array([True, False, True])))
    with pytest.raises(GraphError, match=r"graph.nodes\[3\].inputs\[0\]: condition of where must be a bool"):
        validate(_graph(np.array([1.0, 0.0, 1.0])))
    with pytest.raises(GraphError, match=r"inputs\[0\]: input of sin must be a float tensor"):
        validate(_graph(np.array([True, False, True]), op="sin"))
    bad = Graph((Leaf("c", np.array([True]), True), OpNode("s", "sin", ("c",))), "s")
    with pytest.raises(GraphError, match="only floating point leaves can require grad"):
        validate(bad)


def test_where_graph_checks_with_a_bool_leaf():
    request = CheckRequest(graph=_graph(np.array([True, False, True])), tier="tensor", seed=np.arange(3.0))
    report = check(request)
    assert report.verdict == "agree", str(report)
    assert report.leaf("a").pairs[0].max_abs == 0.0


def test_comparisons_are_unrecorded_bool_masks_and_tril_is_recorded():
    x = crossgrad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    mask = crossgrad.gt(x, 0.7)
    assert mask.dtype is crossgrad.bool_ and mask.grad_fn is None and not mask.requires_grad
    assert x.le(0.5).tolist() == [[False, True], [True, False]] == (x <= 0.5).tolist()
    lower = crossgrad.tril(x * 2)
    assert lower.grad_fn.name() == "TrilBackward0" and lower.tolist() == [[2.0, 0.0], [1.0, 6.0]]
    lower.sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [2.0, 2.0]]
    assert x.triu(1).tolist() == [[0.0, -2.0], [0.0, 0.0]]
    with pytest.raises(crossgrad.engine.errors.ShapeError, match="^tril: input tensor must have at least 2"):
        crossgrad.tril(crossgrad.ones(3))
    assert crossgrad.full_like(x, 2.0, requires_grad=True).requires_grad
