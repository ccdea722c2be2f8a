"""embedding and layer_norm (issue 11 part B): closed forms, planted wrong-axis bugs, bad input."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import IndexRangeError, ShapeError
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.rules_nn import NN_RULES
from crossgrad.engine.numeric.ruletools import Rule

from .test_check_catalogue import _assert_caught


def test_layer_norm_closed_form_and_gradient_sums():
    x = torch.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]], dtype=torch.float64, requires_grad=True)
    y = F.layer_norm(x, 3, eps=0.0)
    row = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(y[0].detach().numpy(), (row - row.mean()) / row.std(), rtol=1e-12)
    y.sum().backward()  # a normalized row sums to 0 whatever x is: its gradient by x is 0
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-12)


def test_embedding_rows_add_up_and_padding_row_gets_none():
    w = torch.ones(4, 2, requires_grad=True)
    F.embedding(torch.tensor([[3, 0], [3, 3]]), w, padding_idx=0).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [0, 0, 0, 3])


@pytest.mark.parametrize(("call", "error", "text"), [
    (lambda: F.layer_norm(torch.ones(2, 3), (2,)), ShapeError, r"Given normalized_shape=\[2\], expected input"),
    (lambda: F.layer_norm(torch.ones(2, 3), 3, torch.ones(2)), ShapeError, r"weight of shape \[2\]"),
    (lambda: F.embedding(torch.tensor([0, 7]), torch.ones(5, 2)), IndexRangeError, "embedding..: index 7"),
    (lambda: F.embedding(torch.tensor([0.0]), torch.ones(5, 2)), TypeError, "int64"),
])
def test_bad_input_is_typed(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_bad_graphs_name_the_node_and_field():
    nodes = (Leaf("i", np.array([0, 5]), False), Leaf("w", np.ones((5, 2)), True),
             OpNode("out", "embedding", ("i", "w")))
    with pytest.raises(GraphError) as err:
        validate(Graph(nodes, "out"))
    assert err.value.path == "graph.nodes[2].inputs[0]" and "index 5 is out of bounds" in str(err.value)
    nodes = (Leaf("x", np.ones((2, 3)), True), OpNode("out", "layer_norm", ("x",), {"normalized_shape": (2,)}))
    with pytest.raises(GraphError) as err:
        validate(Graph(nodes, "out"))
    assert err.value.path == "graph.nodes[1]" and "normalized_shape=[2]" in str(err.value)


def _wrong_ln(g, saved, node):
    """layer_norm's input gradient with the row means taken over the batch axis."""
    gx, gw, gb = NN_RULES["layer_norm"].vjp(g, saved, node)
    return gx - gx.mean(axis=-1, keepdims=True) + gx.mean(axis=0, keepdims=True), gw, gb


def _wrong_embedding(g, idx, node):
    """One row off: rows accumulate at idx + 1."""
    return NN_RULES["embedding"].vjp(g, (idx + 1) % node.shapes[1][0], node)


@pytest.mark.parametrize(("op", "nodes", "wrong", "leaf"), [
    ("layer_norm", [Leaf("x", np.random.default_rng(0).standard_normal((4, 5)), True),
                    Leaf("w", np.random.default_rng(1).standard_normal(5), True)], _wrong_ln, "x"),
    ("embedding", [Leaf("i", np.array([[0, 2], [2, 3]]), False),
                   Leaf("w", np.random.default_rng(2).standard_normal((4, 3)), True)], _wrong_embedding, "w"),
])
def test_wrong_axis_vjp_is_caught_at_the_leaf(monkeypatch, op, nodes, wrong, leaf):
    attrs = {"normalized_shape": (5,)} if op == "layer_norm" else {}
    node = OpNode("y", op, tuple(n.name for n in nodes), attrs)
    shape = (4, 5) if op == "layer_norm" else (2, 2, 3)
    request = CheckRequest(Graph(tuple(nodes) + (node,), "y"), np.random.default_rng(3).standard_normal(shape),
                           tier="tensor")
    assert check(request).verdict == "agree"
    monkeypatch.setitem(RULES, op, Rule(RULES[op].forward, wrong))
    _assert_caught(check(request), leaf)


def test_dropout_scales_kept_elements_is_reproducible_and_checkable():
    torch.manual_seed(3)
    x = torch.ones(4, 50, dtype=torch.float64, requires_grad=True)
    y = F.dropout(x, 0.2)
    values = set(np.unique(y.detach().numpy()).tolist())
    assert values == {0.0, 1.25} and type(y.grad_fn).__name__ == "MulBackward0"
    torch.manual_seed(3)
    assert F.dropout(torch.ones(4, 50, dtype=torch.float64), 0.2).tolist() == y.tolist()
    report = torch.check((y * y).sum())
    assert report.verdict == "agree", str(report)
    grad = report.leaves[0].grads["finite_difference"]
    np.testing.assert_array_equal(grad == 0, y.detach().numpy() == 0)  # dropped: exactly 0 on every witness
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_softmax_with_minus_inf_agrees_with_exact_zeros_on_every_witness(tier, dtype):
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((4, 4)).astype(dtype)
    causal = np.triu(np.ones((4, 4), bool), k=1)  # a causal attention mask: True above the diagonal
    nodes = (Leaf("s", scores, True), Leaf("m", causal, False),
             OpNode("f", "masked_fill", ("s", "m"), {"value": float("-inf")}),
             OpNode("p", "softmax", ("f",), {"dim": -1}))
    seed = rng.standard_normal((4, 4))
    report = check(CheckRequest(Graph(nodes, "p"), seed, tier=tier))
    assert report.verdict == "agree", str(report)
    leaf = report.leaf("s")
    for witness in ("numeric", "symbolic", "finite_difference"):
        grad = leaf.grads[witness]
        assert np.all(grad[causal] == 0) and np.all(np.isfinite(grad)), witness
        assert np.abs(grad[~causal][4:]).max() > 1e-3  # rows with two or more kept entries do get gradients


def test_masked_fill_surface_and_bad_mask():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.masked_fill(torch.tensor([True, False]), float("-inf"))
    assert y.tolist() == [[float("-inf"), 2.0], [float("-inf"), 4.0]]
    assert type(y.grad_fn).__name__ == "MaskedFillBackward0"
    with pytest.raises(TypeError, match="masked_fill only supports boolean masks"):
        x.masked_fill(torch.tensor([1.0, 0.0]), 0.0)
    nodes = (Leaf("x", np.ones((2, 2)), True), Leaf("m", np.ones((2, 2)), False),
             OpNode("out", "masked_fill", ("x", "m"), {"value": 1.0}))
    with pytest.raises(GraphError) as err:
        validate(Graph(nodes, "out"))
    assert err.value.path == "graph.nodes[2].inputs[1]" and "must be a bool tensor" in str(err.value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_causal_attention_and_cosine_similarity_are_checked_by_every_witness(dtype):
    torch.manual_seed(1)
    q, k, v = (torch.randn(2, 4, 3, dtype=dtype, requires_grad=True) for _ in range(3))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    report = torch.check((y * y).sum() + F.cosine_similarity(q, k, dim=-1).sum())
    assert report.verdict == "agree", str(report)
    assert all(np.isfinite(leaf.grads["symbolic"]).all() for leaf in report.leaves)
