"""Batched forwards (finite differences' perturbed copies) equal one forward per copy, on every
catalogue case and for every float input perturbed, including the fallback paths."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import finite_diff
from crossgrad.engine.graph import Leaf, validate
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.run_graph import forward_program

from .catalogue_inputs import all_cases
from .graphs import case_request

LEAF_CASES = []  # every leaf finite differences move: the float leaves that require grad
for _name, _index in all_cases():
    _graph = case_request(_name, _index).graph
    for _node in _graph.nodes:
        if isinstance(_node, Leaf) and _node.requires_grad:
            LEAF_CASES.append((_name, _index, _node.name))


@pytest.mark.parametrize(("name", "index", "leaf"), LEAF_CASES,
                         ids=[f"{n}-{i}-{leaf}" for n, i, leaf in LEAF_CASES])
def test_batched_outputs_equal_one_forward_per_copy(name, index, leaf):
    plan = validate(case_request(name, index, seed=3).graph)
    at = plan.index[leaf]
    x = np.asarray(plan.graph.nodes[at].value, np.float64)
    stack = x + 0.01 * np.random.default_rng(4).standard_normal((3,) + x.shape)
    base = {at: x}
    got = batched.Batched(plan, base).outputs({at: stack})
    run = forward_program(plan)
    want = np.stack([run({at: copy}) for copy in stack])
    assert got.shape == want.shape
    loose = name == "to_dtype"  # finite differences pass a conversion to float32 through unrounded
    np.testing.assert_allclose(got, want, rtol=1e-6 if loose else 1e-12, atol=1e-6 if loose else 1e-12)


def test_every_batch_rule_is_a_table_entry_or_the_loop():
    from crossgrad.engine import ops

    assert set(batched.TABLE) == set(ops.CATALOGUE), "an op without a batch rule runs once per copy"


def _one_at_a_time(plan, seed):
    """Central differences the plain way: two forwards per element, nothing batched."""
    run = forward_program(plan)
    base = {i: np.asarray(plan.graph.nodes[i].value, np.float64) for i in plan.grad_leaves()}
    grads = {}
    for leaf, x in base.items():
        grad = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            h = finite_diff.STEP * max(1.0, abs(float(x[index])))
            plus, minus = x.copy(), x.copy()
            plus[index] += h
            minus[index] -= h
            f = [float(np.sum(run({**base, leaf: v}) * seed)) for v in (plus, minus)]
            grad[index] = (f[0] - f[1]) / (2 * h)
        grads[leaf] = grad
    return grads


@pytest.mark.parametrize("copies_per_batch", [None, 1, 3, 5])
def test_batches_spanning_leaves_give_the_plain_differences(monkeypatch, copies_per_batch):
    """Per element, one batch may move several leaves (each copy one element); however the
    perturbations are split into batches, the result is two plain forwards per element."""
    plan = validate(case_request("linear", 0, seed=2).graph)
    assert len(plan.grad_leaves()) == 3  # input, weight, bias
    seed = np.random.default_rng(1).standard_normal(plan.shapes[plan.output])
    if copies_per_batch is not None:
        widest = batched.Batched(plan, {}).widest(plan.grad_leaves())  # what a batch is sized by
        monkeypatch.setattr(finite_diff, "BATCH_ELEMENTS", 2 * widest * copies_per_batch)
    got = finite_diff.finite_differences(plan, seed).grads
    want = _one_at_a_time(plan, seed)
    for leaf in want:
        np.testing.assert_allclose(got[leaf], want[leaf], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("name", "index"), sorted({(n, i) for n, i, _ in LEAF_CASES}))
def test_batched_outputs_with_every_float_leaf_moved_at_once(name, index):
    """Several batched inputs meet in one op (both sides of a matmul, of an add, ...)."""
    plan = validate(case_request(name, index, seed=3).graph)
    rng = np.random.default_rng(5)
    leaves = {i: np.asarray(n.value, np.float64) for i, n in enumerate(plan.graph.nodes)
              if isinstance(n, Leaf) and n.requires_grad}
    stacks = {i: x + 0.01 * rng.standard_normal((3,) + x.shape) for i, x in leaves.items()}
    got = batched.Batched(plan, leaves).outputs(stacks)
    run = forward_program(plan)
    want = np.stack([run({i: stack[b] for i, stack in stacks.items()}) for b in range(3)])
    assert got.shape == want.shape
    loose = name == "to_dtype"  # finite differences pass a conversion to float32 through unrounded
    np.testing.assert_allclose(got, want, rtol=1e-6 if loose else 1e-12, atol=1e-6 if loose else 1e-12)


def test_random_directions_are_seeded_unit_sign_vectors_and_project_gradients():
    """Directions mode: +-1/sqrt(n) entries, the same for the same seed, and project() is the
    plain dot product of a gradient with each unit direction."""
    rng = np.random.default_rng(9)
    signs = finite_diff._random_signs(rng, (8, 40, 30))
    assert signs.dtype == np.int8 and set(np.unique(signs)) == {-1, 1}
    assert abs(float(signs.mean())) < 0.05
    again = finite_diff._random_signs(np.random.default_rng(9), (8, 40, 30))
    assert (signs == again).all()
    fd = finite_diff.FiniteDifferences("directions", 9, {}, {0: signs}, {})
    grad = np.random.default_rng(1).standard_normal((40, 30))
    unit = signs.astype(np.float64) / np.sqrt(grad.size)
    np.testing.assert_allclose(fd.project(0, grad), np.tensordot(unit, grad, axes=2), rtol=1e-12)


def test_unbatched_op_values_are_computed_once_and_only_when_read():
    """b is batched, exp(a) is not: its one base value is needed. With a and b batched, the
    unperturbed forward is never run."""
    from crossgrad.engine.graph import Graph, OpNode

    a, b = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    graph = Graph((Leaf("a", a, True), Leaf("b", b, True), OpNode("e", "exp", ("a",)),
                   OpNode("m", "mul", ("e", "b")), OpNode("out", "sum", ("m",))), "out")
    plan = validate(graph)
    stacks = {1: b + np.array([[0.0, 0.0], [0.1, -0.2]])}
    runner = batched.Batched(plan, {0: a, 1: b})
    got = runner.outputs(stacks)
    np.testing.assert_allclose(got, [np.sum(np.exp(a) * s) for s in stacks[1]], rtol=1e-15)
    assert runner._base is not None
    both = batched.Batched(plan, {0: a, 1: b})
    moved = {0: a + np.array([[0.3, 0.0]]), 1: b + np.array([[0.0, 0.1]])}
    np.testing.assert_allclose(both.outputs(moved), [np.sum(np.exp(moved[0][0]) * moved[1][0])], rtol=1e-15)
    assert both._base is None


@pytest.mark.parametrize("cut", ["detach", "no_grad", "weight"])
def test_values_autograd_treats_as_constants_stay_unperturbed(cut):
    """out = sum(x * c) with c = exp(x) detached (a detach op, a no_grad node) or x feeding a
    loss's non-differentiable weight: moving x moves only the first factor, as autograd sees it."""
    from crossgrad.engine.graph import Graph, OpNode

    x = np.array([0.5, -1.0, 2.0])
    if cut == "weight":
        nodes = (Leaf("x", x, True), Leaf("t", np.zeros(3), False), OpNode("e", "exp", ("x",)),
                 OpNode("out", "binary_cross_entropy_with_logits", ("x", "t", "e")))
    else:
        c = OpNode("c", "detach", ("e",)) if cut == "detach" else OpNode("c", "exp", ("x",), no_grad=True)
        nodes = (Leaf("x", x, True), OpNode("e", "exp", ("x",)), c, OpNode("m", "mul", ("x", "c")),
                 OpNode("out", "sum", ("m",)))
    plan = validate(Graph(nodes, "out"))
    moved = x + np.array([[0.1, 0.0, 0.0], [0.0, -0.2, 0.3]])
    got = batched.Batched(plan, {0: x}).outputs({0: moved})
    if cut == "weight":  # mean(w * bce(z, 0)) with the weight w = exp(x) held at its base value
        want = [np.mean(np.exp(x) * np.logaddexp(0.0, z)) for z in moved]
    else:
        want = [np.sum(z * np.exp(x)) for z in moved]
    np.testing.assert_allclose(got, want, rtol=1e-14)
