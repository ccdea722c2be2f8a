"""Order 2 above the exact tier's size: the tensor tier's Hessian-vector products (tangents
through its SymPy-derived gradient program) equal real torch's double backward
(tests/golden/higher_order_large.json) and the engine's; planted second-order bugs in numeric
VJPs are caught on large graphs with the symbolic witness on the right side; an op the tensor
tier cannot differentiate twice is named, never answered with a wrong number."""

from __future__ import annotations

import json
import math
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import hessian
from crossgrad.engine.graph import validate
from crossgrad.engine.numeric import dispatch
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.symbolic import tensor_hvp
from crossgrad.engine.symbolic.tensor_second import NotTwice
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.catalogue_inputs import all_cases
from tests.higher_cases import as_tensor, case_data, cotangent
from tests.higher_large_graphs import GRAPHS, directions, double_backward, norm_block, tanh_mlp
from tests.test_higher_order_check import _bad_softmax, _bad_tanh, _plant
from tests.test_higher_order_kinks import W, _relu_squared
from tests.test_random_graphs import SHAPES, run, step

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "higher_order_large.json").read_text())["hvps"]
F = crossgrad.nn.functional


def _plan_and_directions(name: str) -> tuple:
    loss, ps = GRAPHS[name](crossgrad)
    graph, _ = to_graph(loss, {id(t): k for k, t in ps.items()})
    plan = validate(graph)
    order = [plan.graph.nodes[i].name for i in plan.grad_leaves()]
    vs = np.array([np.concatenate([v[k].ravel() for k in order]) for v in directions(ps)])
    return plan, vs, order


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_tensor_tier_hvp_equals_torch_and_the_engine_double_backward(name: str) -> None:
    plan, vs, order = _plan_and_directions(name)
    assert vs.shape[1] > hessian.SYMBOLIC_MAX  # above the exact tier
    found = tensor_hvp.hvps(plan, np.ones(()), vs)
    torch_rows = [np.concatenate([np.ravel(row[k]) for k in order]) for row in GOLDEN[name]]
    engine_rows = [np.concatenate([row[k].ravel() for k in order]) for row in double_backward(crossgrad, name)]
    scale = np.abs(torch_rows).max()
    np.testing.assert_allclose(found, torch_rows, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(engine_rows, torch_rows, rtol=1e-9, atol=1e-12 * scale)


def test_large_order2_report_has_the_tensor_tier_symbolic_witness() -> None:
    loss, ps = tanh_mlp(crossgrad)
    report = crossgrad.check(loss, names=ps, order=2, fd_seed=4)
    assert report.verdict == "agree" and report.tier == "tensor", str(report)
    assert "836 differentiable elements, over the exact tier's 24" in report.tier_reason
    w1 = report.leaf("w1")
    assert set(w1.grads) == {"numeric", "symbolic", "finite_difference"} and w1.shape == (3, 64, 8)
    np.testing.assert_allclose(w1.grads["symbolic"], w1.grads["numeric"], rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize(("op", "vjp", "graph"), [("tanh", _bad_tanh, tanh_mlp), ("softmax", _bad_softmax, norm_block)])
def test_planted_second_order_bug_is_caught_on_a_large_graph(monkeypatch: pytest.MonkeyPatch, op: str, vjp,  # noqa: ANN001
                                                              graph) -> None:  # noqa: ANN001
    _plant(monkeypatch, op, vjp)
    loss, ps = graph(crossgrad)
    assert crossgrad.check(loss, names=ps, tier="tensor").verdict == "agree"  # right to first order
    loss, ps = graph(crossgrad)
    report = crossgrad.check(loss, names=ps, order=2)
    assert report.verdict == "mismatch" and report.tier == "tensor", str(report)
    suspects = {leaf.suspect for leaf in report.leaves if leaf.verdict == "mismatch"}
    assert suspects == {"numeric"}, str(report)
    for leaf in report.leaves:
        pair = next(p for p in leaf.pairs if p.witnesses == ("symbolic", "finite_difference"))
        assert pair.verdict == "agree", str(report)


def test_relu_net_at_order2_uses_relu_second_derivative_zero() -> None:
    rng = np.random.default_rng(3)
    w = crossgrad.tensor(rng.standard_normal((32, 6)), requires_grad=True)
    v = crossgrad.tensor(rng.standard_normal((1, 32)), requires_grad=True)
    x = crossgrad.tensor(rng.standard_normal((10, 6)))
    loss = (F.linear(crossgrad.relu(F.linear(x, w)), v) ** 2).mean()
    report = crossgrad.check(loss, names={"w": w, "v": v}, order=2)
    assert report.verdict == "agree" and report.tier == "tensor", str(report)
    np.testing.assert_allclose(report.leaf("w").grads["symbolic"], report.leaf("w").grads["numeric"], rtol=1e-9)


def test_an_op_not_differentiable_twice_is_named_and_symbolic_skipped() -> None:
    x = crossgrad.tensor(1 + 0.1 * np.random.default_rng(0).standard_normal((3, 34)), requires_grad=True)
    report = crossgrad.check(x.prod(1).sum(), names={"x": x}, order=2)
    assert report.tier == "off" and report.verdict == "agree", str(report)
    assert "the tensor tier cannot differentiate twice: op 'prod'" in str(report)
    assert "a non-linear template of 34 placeholders" in str(report)
    assert set(report.leaf("x").grads) == {"numeric", "finite_difference"}


@pytest.mark.parametrize("reduce", [lambda x: x.logsumexp(1), lambda x: x.var(1), lambda x: x.std(1, correction=0),
                                    lambda x: x.norm(dim=1), lambda x: x.norm(p=1, dim=1)],
                         ids=["logsumexp", "var", "std", "norm2", "norm1"])
def test_long_row_reductions_are_staged_and_differentiated_twice(reduce) -> None:  # noqa: ANN001
    """Rows of 100: one template per row would need 100^2 second partials; the staged forms none."""
    x = crossgrad.tensor(np.random.default_rng(1).standard_normal((3, 100)), requires_grad=True)
    loss = (reduce(x) * crossgrad.tensor([0.5, -1.0, 2.0])).sum()
    plan = validate(to_graph(loss)[0])
    vs = np.random.default_rng(2).standard_normal((2, 300))
    np.testing.assert_allclose(tensor_hvp.hvps(plan, np.ones(()), vs), hessian.numeric_hvps(plan, np.ones(()), vs),
                               rtol=1e-9, atol=1e-12)


def test_tier_exact_at_order2_stays_exact_and_says_why() -> None:
    loss, ps = tanh_mlp(crossgrad)
    report = crossgrad.check(loss, names=ps, order=2, tier="exact")
    assert report.tier == "off" and "over the exact tier's 24; symbolic did not run" in str(report)


# Catalogue cases the tensor tier does not differentiate twice (named in the report instead).
NOT_TWICE: dict[tuple[str, int], str] = {}


def _case_output(name: str, index: int) -> crossgrad.Tensor:
    arrays, attrs, diff = case_data(name, index)
    ts = [as_tensor(crossgrad, a, i in diff) for i, a in enumerate(arrays)]
    return dispatch.apply(name, tuple(ts), attrs)


def _case_plan(name: str, index: int) -> tuple:
    y = _case_output(name, index)
    loss = (y * crossgrad.tensor(cotangent(tuple(y.shape)), dtype=crossgrad.float64)).sum()
    plan = validate(to_graph(loss)[0])
    n = sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves())
    return plan, np.random.default_rng(5).standard_normal((2, n))


DIFFERENTIABLE_CASES = [(n, i) for n, i in all_cases() if _case_output(n, i).requires_grad]


@pytest.mark.parametrize(("name", "index"), DIFFERENTIABLE_CASES)
def test_every_catalogue_case_tensor_tier_hvp_equals_the_double_backward(name: str, index: int) -> None:
    """The engine's double backward is torch's (tests/test_higher_order.py, golden); the tensor
    tier's tangents must give the same H v for every op, or name the op and give nothing."""
    plan, vs = _case_plan(name, index)
    if (name, index) in NOT_TWICE:
        with pytest.raises(NotTwice, match=NOT_TWICE[(name, index)]):
            tensor_hvp.hvps(plan, np.ones(()), vs)
        return
    found = tensor_hvp.hvps(plan, np.ones(()), vs)
    expected = hessian.numeric_hvps(plan, np.ones(()), vs)
    np.testing.assert_allclose(found, expected, rtol=1e-8, atol=1e-10 * max(1.0, float(np.abs(expected).max())))


def test_kinks_at_order2_with_the_tensor_tier_follow_the_same_convention() -> None:
    """relu(x)^2 w at x = 0: the tensor tier's relu' is numpy's heaviside(0, 1/2), as SymPy's."""
    report = crossgrad.check(_relu_squared(), order=2, tier="tensor")
    assert report.verdict == "convention" and report.tier == "tensor", str(report)
    grads = report.leaves[0].grads
    assert grads["numeric"][0, 0] == 0.0 and grads["symbolic"][0, 0] == pytest.approx(W[0] / 2)
    np.testing.assert_allclose(grads["symbolic"][1:, 1:], np.diag([2 * W[1], 0.0]))


@settings(max_examples=25, deadline=None)
@given(shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
       program=st.lists(step, min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_random_graphs_tensor_tier_hvp_equals_the_double_backward(shapes, program, seed) -> None:  # noqa: ANN001
    """Broadcasting, fan-out, softmax rows, means: the tangents agree with double backward."""
    rng = np.random.default_rng(seed)
    leaves = [crossgrad.tensor(rng.standard_normal(s), dtype=crossgrad.float64, requires_grad=True) for s in shapes]
    out = run(program, leaves)
    if not out.requires_grad:
        return
    loss = (out * crossgrad.tensor(rng.standard_normal(tuple(out.shape)))).sum()
    plan = validate(to_graph(loss)[0])
    vs = rng.standard_normal((2, sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves())))
    expected = hessian.numeric_hvps(plan, np.ones(()), vs)
    np.testing.assert_allclose(tensor_hvp.hvps(plan, np.ones(()), vs), expected, rtol=1e-8,
                               atol=1e-10 * max(1.0, float(np.abs(expected).max())))
