"""The tensor tier's first-order fast paths: template groups whose gathers are strided layouts run
on numpy views (tensor_strided.py), and elementwise ops whose partials share a costly function
with the output compute both in one function (tensor_elementwise.py). Both must give the gathered,
separately compiled path's values (which the order-2 walk still uses) for every catalogue case."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from crossgrad.engine import ops
from crossgrad.engine.graph import Graph, Leaf, OpNode, input_indices, validate
from crossgrad.engine.symbolic import tensor
from crossgrad.engine.symbolic import tensor_strided as TS
from crossgrad.engine.symbolic.templates import Group, args, grid
from crossgrad.engine.symbolic.tensor_elementwise import ElementwiseStep, Partials, joint_function

from .graphs import case_request


def _layout_values(index: np.ndarray) -> np.ndarray | None:
    found = TS.layouts([index])
    if found is None:
        return None
    shape, ((offset, strides),) = found
    return TS._indices(offset, shape, strides).reshape(-1)


@pytest.mark.parametrize("index", [
    np.arange(12),
    np.repeat(np.arange(3), 4),  # the row of each element
    np.tile(np.arange(4), 3),  # the feature of each element
    grid((2, 3, 4)).transpose(0, 2, 1).reshape(-1),
    grid((6, 8))[1:5:2, ::3].reshape(-1),
    np.broadcast_to(grid((5, 1, 3)), (5, 4, 3)).reshape(-1) + 7,
])
def test_strided_index_arrays_are_found_and_rebuilt_exactly(index):
    np.testing.assert_array_equal(_layout_values(index), index)


def test_irregular_index_arrays_keep_their_gathers():
    assert _layout_values(np.random.default_rng(0).permutation(24)) is None
    assert _layout_values(np.array([0, 1, 2, 4, 5, 7])) is None
    # a strided layout that reads some elements twice along kept axes: its adjoint needs a bincount
    overlapping = (np.arange(3)[:, None] + np.arange(4)[None, :]).reshape(-1, 1)
    group = Group(args(1)[0], (0,), np.arange(12), overlapping)
    assert TS.layouts([overlapping[:, 0]]) is not None and TS.plan(group, False) is None


def test_rows_read_as_broadcast_views_and_summed_back():
    rows, elements = np.repeat(np.arange(4), 5), np.arange(20)
    s = args(2)
    group = Group(s[0] - s[1], (0, 1), elements, np.stack([elements, rows], axis=1))
    sg = TS.plan(group, False)
    assert sg is not None and sg.shape == (4, 5) and sg.summed == ((), (1,))
    x, m = np.arange(20.0), np.arange(4.0) * 10
    cols = sg.gather([x, m], group.sources)
    assert cols[1].strides[1] == 0  # the row's value is read, not copied per element
    np.testing.assert_array_equal(cols[0] - cols[1], (x - m[rows]).reshape(4, 5))
    up = np.arange(20.0).reshape(4, 5)
    np.testing.assert_array_equal(sg.scatter(1, up, 4), np.bincount(rows, up.reshape(-1)))


def _first_order_pair(step, inputs, wants, rng):
    fast_out, fast_tape = tensor._forward(step, inputs)
    slow_out, slow_tape = tensor._forward(step, inputs, first_order=False)
    np.testing.assert_allclose(fast_out, slow_out, rtol=1e-13, atol=1e-300)
    adjoint = rng.standard_normal(np.shape(slow_out))
    fast = tensor._backward(step, fast_tape, adjoint, wants)
    slow = tensor._backward(step, slow_tape, adjoint, wants)
    for f, s in zip(fast, slow):
        assert (f is None) == (s is None)
        if s is not None:
            scale = np.max(np.abs(s)) if np.size(s) else 1.0
            np.testing.assert_allclose(f, s, rtol=1e-12, atol=1e-13 * scale)
    return fast_tape


CASES = [(name, i) for name in sorted(ops.CATALOGUE) for i in range(len(ops.CATALOGUE[name].cases))]


def test_every_catalogue_case_gives_the_gathered_values_on_views():
    """The output node of every case, first order on views vs the gathered path; and the ops
    whose layouts are regular really ran on views (the comparison is not vacuous)."""
    rng = np.random.default_rng(3)
    strided_ops = set()
    for name, index in CASES:
        plan = validate(case_request(name, index).graph)
        step = tensor.compile_plan(plan)[plan.output]
        if not isinstance(step, (tensor.TemplateStep, ElementwiseStep)):
            continue
        srcs = input_indices(plan, plan.output)
        nodes = plan.graph.nodes
        inputs = [None if s is None else np.asarray(nodes[s].value, np.float64 if plan.dtypes[s] != "int64"
                                                     else np.int64) for s in srcs]  # type: ignore[union-attr]
        wants = [s is not None and plan.active[s] for s in srcs]
        tape = _first_order_pair(step, inputs, wants, rng)
        if isinstance(tape, TS.StridedTape) and any(sg for row in step.strided for sg in row):
            strided_ops.add(name)
    assert {"layer_norm", "softmax", "log_softmax", "batch_norm", "transpose", "reshape", "slice",
            "cross_entropy"} <= strided_ops


@pytest.mark.parametrize("op, attrs, shared", [
    ("gelu", {"approximate": "none"}, True), ("gelu", {"approximate": "tanh"}, True), ("tanh", {}, True),
    ("sigmoid", {}, True), ("exp", {}, True), ("mul", {}, False), ("log", {}, False), ("relu", {}, False),
])
def test_output_and_partials_in_one_function_when_they_share_a_costly_call(op, attrs, shared):
    rng = np.random.default_rng(4)
    binary = op == "mul"
    nodes = [Leaf("x", rng.standard_normal((6, 5)) + (3.0 if op == "log" else 0.0), True)]
    nodes += [Leaf("y", rng.standard_normal(5), True)] if binary else []
    nodes.append(OpNode("z", op, ("x", "y") if binary else ("x",), attrs))
    plan = validate(Graph(tuple(nodes), "z"))
    step = tensor.compile_plan(plan)[plan.output]
    assert isinstance(step, ElementwiseStep) and (step.joint is not None) == shared
    inputs = [np.asarray(n.value) for n in nodes[:-1]]
    tape = _first_order_pair(step, inputs, [True] * len(inputs), rng)
    assert isinstance(tape, Partials) == shared


def test_the_joint_function_is_the_template_and_its_sympy_partials():
    s = args(1)
    template = s[0] / 2 * (1 + sp.erf(s[0] / sp.sqrt(2)))
    partial = sp.diff(template, s[0])
    fn = joint_function(template, (partial,), 1)
    x = np.linspace(-5, 5, 101)
    out, d = fn(x)
    want = sp.lambdify(s, [template, partial], "mpmath")
    for xv, o, dv in zip(x[::10], out[::10], d[::10]):
        w_out, w_d = want(float(xv))
        assert abs(o - float(w_out)) <= 1e-15 * max(1.0, abs(o)) and abs(dv - float(w_d)) <= 1e-15


@pytest.mark.parametrize("spec, shapes, used", [
    ("gade,fabcde->fgbc", [(4, 2, 3, 3), (5, 2, 6, 6, 3, 3)], True),  # conv forward on windows
    ("cdab,ceabfg->defg", [(5, 4, 6, 6), (5, 2, 6, 6, 3, 3)], True),  # its weight gradient
    ("abc,acd->abd", [(3, 4, 5), (3, 5, 2)], False),  # a batch index: einsum's
    ("aab,bc->ac", [(3, 3, 4), (4, 2)], False),  # a diagonal
    ("ab,bc->a", [(3, 4), (4, 2)], False),  # c summed inside one operand
])
def test_two_operand_contractions_on_a_strided_view_run_as_tensordot(spec, shapes, used):
    from crossgrad.engine.symbolic import contractions as C

    rng = np.random.default_rng(5)
    a = rng.standard_normal(shapes[0])
    base = rng.standard_normal(shapes[1][:2] + tuple(n + 2 for n in shapes[1][2:4])) if len(shapes[1]) == 6 else None
    if base is not None:  # a window view, as the conv's
        s = base.strides
        b = np.lib.stride_tricks.as_strided(base, shapes[1], s + s[2:], writeable=False)
    else:
        b = rng.standard_normal(shapes[1])
    assert (C._as_tensordot(spec, a, b) is not None) == used
    np.testing.assert_allclose(C.einsum(spec, a, b), np.einsum(spec, a, b), rtol=1e-12, atol=1e-12)
