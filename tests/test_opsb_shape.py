"""Shape and indexing ops (issue 11 part B): torch-style surface, closed-form values, wrong-axis
planted bugs, and bad input as typed errors (locally, in a graph, and over the wire)."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import IndexRangeError, ShapeError
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.rules_shape import SHAPE_RULES
from crossgrad.engine.numeric.ruletools import Rule

from .test_check_catalogue import _assert_caught


def _x(*shape):
    return torch.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) + 1.0, requires_grad=True)


def test_split_chunk_are_slices_whose_gradients_fill_the_input():
    x = _x(7, 2)
    pieces = x.split(3)
    assert [tuple(p.shape) for p in pieces] == [(3, 2), (3, 2), (1, 2)]
    assert type(pieces[0].grad_fn).__name__ == "SplitBackward0"  # torch 2.13's names (recorded from torch)
    assert {p.grad_fn.name() for p in x.split([2, 5])} == {"SplitWithSizesBackward0"}
    assert {p.grad_fn.name() for p in x.chunk(3)} == {"SplitBackward0"} and x[1:3].grad_fn.name() == "SliceBackward0"
    (pieces[0].sum() * 1 + pieces[2].sum() * 3).backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [1, 1, 1, 0, 0, 0, 3])
    a, b = torch.split(_x(5), [2, 3])
    assert a.tolist() == [1.0, 2.0] and b.tolist() == [3.0, 4.0, 5.0]
    assert [tuple(c.shape) for c in _x(2, 5).chunk(3, dim=-1)] == [(2, 2), (2, 2), (2, 1)]
    assert len(_x(6).chunk(4)) == 3  # torch: ceil(6/4)=2 per piece -> 3 pieces


def test_integer_tensor_indexing_adds_repeated_rows():
    x = _x(4, 2)
    idx = torch.tensor([3, 0, 3, -1])
    y = x[idx]
    assert type(y.grad_fn).__name__ == "IndexBackward0"
    assert y[:, 0].tolist() == [7.0, 1.0, 7.0, 7.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [1, 0, 0, 3])


def test_shape_methods_values_and_no_op_contiguous():
    x = _x(2, 3)
    assert x.contiguous() is x and x.size(-1) == 3 and tuple(x.view(-1, 2).shape) == (3, 2)
    assert tuple(x.unsqueeze(-1).shape) == (2, 3, 1) and tuple(x.unsqueeze(0).squeeze(0).shape) == (2, 3)
    assert x.flip(1)[0].tolist() == [3.0, 2.0, 1.0]
    assert x.repeat(1, 2)[1].tolist() == [4.0, 5.0, 6.0, 4.0, 5.0, 6.0]
    (x.unsqueeze(0).expand(4, -1, -1).sum() + x.repeat(3, 1).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 7.0))
    g = x.gather(1, torch.tensor([[2, 2], [0, 1]]))
    assert g.tolist() == [[3.0, 3.0], [4.0, 5.0]]
    s = torch.index_select(x, -1, torch.tensor([2, 0, 2]))
    assert s[0].tolist() == [3.0, 1.0, 3.0]


@pytest.mark.parametrize(("call", "error", "text"), [
    (lambda x: x.gather(1, torch.tensor([[3], [0]])), IndexRangeError, "gather(): index 3 is out of bounds"),
    (lambda x: x.index_select(0, torch.tensor([2])), IndexRangeError,
     "index 2 is out of bounds for dimension 0 with size 2 (index out of range in self)"),
    (lambda x: x[torch.tensor([-3])], IndexRangeError, "index(): index -3"),
    (lambda x: x.split([1, 1], dim=1), ShapeError, "sum exactly to 3"),
    (lambda x: x.gather(1, torch.tensor([[1.0]])), TypeError, "int64"),
    (lambda x: x.expand(3, 3), ShapeError, "expand"),
])
def test_bad_input_is_a_typed_error_naming_op_and_value(call, error, text):
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        call(_x(2, 3))


def _graph(op, index, attrs, x_shape=(2, 3)):
    return Graph((Leaf("x", np.ones(x_shape), True), Leaf("i", index, False), OpNode("out", op, ("x", "i"), attrs)),
                 "out")


@pytest.mark.parametrize(("op", "index", "attrs", "field", "text"), [
    ("gather", np.array([[0], [3]]), {"dim": 1}, "graph.nodes[2].inputs[1]", "index 3 is out of bounds"),
    ("index_select", np.array([-1]), {"dim": 0}, "graph.nodes[2].inputs[1]", "index -1 is out of bounds"),
    ("index", np.array([5]), {}, "graph.nodes[2].inputs[1]", "index 5"),
    ("gather", np.array([[0.5]]), {"dim": 1}, "graph.nodes[2].inputs[1]", "int64 indices"),
])
def test_bad_index_leaves_name_the_field(op, index, attrs, field, text):
    with pytest.raises(GraphError) as err:
        validate(_graph(op, index, attrs))
    assert err.value.path == field and text in str(err.value)


def test_bad_index_over_the_wire_is_invalid_argument(client):
    from crossgrad.client import InvalidRequest

    with pytest.raises(InvalidRequest) as err:
        client.check(CheckRequest(_graph("gather", np.array([[0], [3]]), {"dim": 1})))
    assert err.value.code == "INVALID_ARGUMENT" and "graph.nodes[2].inputs[1]" in str(err.value)


def _plant(monkeypatch, op, wrong_vjp):
    monkeypatch.setitem(RULES, op, Rule(RULES[op].forward, wrong_vjp))


def _request(op, x, attrs, index=None):
    nodes = [Leaf("x", x, True)] + ([Leaf("i", index, False)] if index is not None else [])
    nodes.append(OpNode("y", op, ("x", "i") if index is not None else ("x",), attrs))
    seed = np.random.default_rng(1).standard_normal(RULES[op].forward(
        (x,) if index is None else (x, index), attrs)[0].shape)
    return CheckRequest(Graph(tuple(nodes), "y"), seed, tier="tensor")


class _AtDim:
    """The node with another dim attribute: the rule scatters along the wrong axis."""

    def __init__(self, node, dim):
        self.shapes, self.needs, self.attrs = node.shapes, node.needs, {**node.attrs, "dim": dim}


WRONG_AXIS = {  # each VJP with its axis bookkeeping broken
    "flip": (np.arange(12.0).reshape(3, 4) + 1, {"dims": (1,)}, None,
             lambda g, s, n: (np.flip(g, 0),)),
    "repeat": (np.arange(6.0).reshape(2, 3) + 1, {"repeats": (2, 2)}, None,
               lambda g, s, n: (g.reshape(2, 2, 2, 3).sum(axis=(0, 2))[:, ::-1].copy(),)),
    "gather": (np.arange(9.0).reshape(3, 3) + 1, {"dim": 1}, np.array([[0, 0, 2], [1, 2, 2], [2, 1, 0]]),
               lambda g, s, n: SHAPE_RULES["gather"].vjp(g, s, _AtDim(n, 0))),
    "index_select": (np.arange(9.0).reshape(3, 3) + 1, {"dim": 1}, np.array([2, 2, 0]),
                     lambda g, s, n: SHAPE_RULES["index_select"].vjp(g.T, s, _AtDim(n, 0))),
}


@pytest.mark.parametrize("op", sorted(WRONG_AXIS))
def test_wrong_axis_vjp_is_caught_at_the_leaf_suspect_numeric(monkeypatch, op):
    x, attrs, index, wrong = WRONG_AXIS[op]
    request = _request(op, x, attrs, index)
    assert check(request).verdict == "agree"
    _plant(monkeypatch, op, wrong)
    _assert_caught(check(request), "x")


def test_cat_and_stack_are_one_node_with_every_tensor_as_input():
    a, b = _x(2, 3), _x(1, 3)
    y = torch.cat([a, b, a], dim=0)
    assert type(y.grad_fn).__name__ == "CatBackward0" and len(y.grad_fn.next_functions) == 3
    (y * torch.arange(5.0).unsqueeze(1)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy()[:, 0], [0 + 3, 1 + 4])
    np.testing.assert_array_equal(b.grad.numpy()[:, 0], [2])
    s = torch.stack([a, a * 2], dim=-1)
    assert tuple(s.shape) == (2, 3, 2) and type(s.grad_fn).__name__ == "StackBackward0"
    assert s[0, 1].tolist() == [2.0, 4.0]


def test_variadic_input_is_validated_and_listed():
    from crossgrad.engine.ops import CATALOGUE
    from crossgrad.server.wire import ops_out

    cat = next(op for op in ops_out().ops if op.name == "cat")
    assert cat.inputs[0].variadic and not next(op for op in ops_out().ops if op.name == "add").inputs[0].variadic
    assert len(CATALOGUE["cat"].input_specs(4)) == 4
    nodes = (Leaf("a", np.ones((2, 3)), True), Leaf("b", np.ones((2, 4)), True), OpNode("out", "cat", ("a", "b")))
    with pytest.raises(GraphError, match="Sizes of tensors must match except in dimension 0"):
        validate(Graph(nodes, "out"))
    with pytest.raises(GraphError, match="cat takes 1 or more inputs, got 0"):
        validate(Graph((Leaf("a", np.ones(2), True), OpNode("out", "cat", ())), "out"))
    with pytest.raises(ShapeError, match="stack expects each tensor to be equal size"):
        torch.stack([_x(2), _x(3)])
