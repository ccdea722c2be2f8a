"""The three witnesses agree on every catalogue op, and every planted VJP bug is caught."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.check import check
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

from .catalogue_inputs import all_cases
from .graphs import case_request

DIFF_CASES = [(n, i) for n, i in all_cases() if ops.CATALOGUE[n].grad_fn is not None]
IDS = [f"{n}-{i}" for n, i in DIFF_CASES]


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("name", "index"), DIFF_CASES, ids=IDS)
def test_witnesses_agree_on_every_op(name, index, dtype, tier):
    report = check(case_request(name, index, dtype, seed=5, tier=tier))
    assert report.tier == tier, report.tier_reason
    assert report.verdict == "agree", str(report)
    for leaf in report.leaves:
        assert {p.witnesses for p in leaf.pairs} >= {("numeric", "symbolic"),
                                                     ("numeric", "finite_difference"),
                                                     ("symbolic", "finite_difference")}


def _plant(monkeypatch, op, transform):
    """Swap in a deliberately wrong VJP: transform(grads, node) -> grads."""
    rule = RULES[op]

    def wrong(g, saved, node):
        return tuple(transform(list(rule.vjp(g, saved, node)), node))

    monkeypatch.setitem(RULES, op, Rule(rule.forward, wrong))


def _first(grads, fn):
    """fn applied to the first input's gradient (where's condition has none: the next one)."""
    k = next(i for i, g in enumerate(grads) if g is not None)
    grads[k] = fn(grads[k])
    return grads


def _bump_one(g):
    g = np.array(g, copy=True)
    g.flat[0] += 1.0 + abs(g.flat[0])
    return g


GENERIC_BUGS = {
    "wrong sign": lambda grads, node: _first(grads, lambda g: -g),
    "dropped factor": lambda grads, node: _first(grads, lambda g: 0.5 * g),
    "one element off": lambda grads, node: _first(grads, _bump_one),
}


def _assert_caught(report, leaf_name, local=False):
    assert report.verdict == "mismatch", str(report)
    leaf = report.leaf(leaf_name)
    assert leaf.verdict == "mismatch" and leaf.suspect == "numeric", str(report)
    exact_pair = next(p for p in leaf.pairs if p.witnesses == ("numeric", "symbolic"))
    if local:
        assert exact_pair.mismatched == 1 and exact_pair.worst_index == (0,) * len(leaf.shape)
    for other in report.leaves:
        if other.name != leaf_name:
            assert other.verdict == "agree", str(report)


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("bug", sorted(GENERIC_BUGS))
@pytest.mark.parametrize("name", sorted({n for n, _ in DIFF_CASES}))
def test_generic_planted_bug_is_caught_at_the_right_leaf(monkeypatch, name, bug, tier):
    request = case_request(name, 0, np.float64, seed=5, tier=tier)
    first = next(n for n in request.graph.nodes if getattr(n, "requires_grad", False))
    clean = check(request)
    assert np.abs(clean.grad(first.name, "symbolic")).max() > 1e-3  # the bug has something to bite
    _plant(monkeypatch, name, GENERIC_BUGS[bug])
    _assert_caught(check(request), first.name, local=bug == "one element off")


def _graph_request(nodes, output="out", seed=None):
    from crossgrad.engine.check import CheckRequest
    from crossgrad.engine.graph import Graph

    return CheckRequest(Graph(tuple(nodes), output), seed)


def test_missing_transpose_in_matmul_is_caught(monkeypatch):
    from crossgrad.engine.graph import Leaf, OpNode

    rng = np.random.default_rng(0)
    nodes = [Leaf("a", rng.standard_normal((3, 3)), True), Leaf("b", rng.standard_normal((3, 3)), True),
             OpNode("out", "matmul", ("a", "b"))]
    _plant(monkeypatch, "matmul", lambda grads, node: grads)  # sanity: a faithful wrapper
    assert check(_graph_request(nodes, seed=rng.standard_normal((3, 3)))).verdict == "agree"
    rule = RULES["matmul"]

    def wrong(g, saved, node):
        a, b = saved
        return g @ b, a.T @ g  # dA should be g @ b.T

    monkeypatch.setitem(RULES, "matmul", Rule(rule.forward, wrong))
    _assert_caught(check(_graph_request(nodes, seed=rng.standard_normal((3, 3)))), "a")


def test_wrong_broadcast_reduction_is_caught(monkeypatch):
    from crossgrad.engine.graph import Leaf, OpNode

    rng = np.random.default_rng(1)
    nodes = [Leaf("x", rng.standard_normal((4, 3)), True), Leaf("bias", rng.standard_normal(3), True),
             OpNode("out", "add", ("x", "bias"))]
    rule = RULES["add"]

    def wrong(g, saved, node):
        return g, g[0]  # should sum over the broadcast rows

    monkeypatch.setitem(RULES, "add", Rule(rule.forward, wrong))
    _assert_caught(check(_graph_request(nodes, seed=rng.standard_normal((4, 3)))), "bias")


@pytest.mark.parametrize(("op", "index", "n"), [
    ("mean", 0, 6), ("mean", 1, 2), ("binary_cross_entropy_with_logits", 0, 15),
    ("cross_entropy", 0, 4), ("mse_loss", 0, 6),
])
def test_missing_one_over_n_is_caught(monkeypatch, op, index, n):
    """The VJP forgets the mean's 1/N (N = elements averaged): off by exactly a factor N."""
    request = case_request(op, index, np.float64, seed=5)
    first = next(node for node in request.graph.nodes if getattr(node, "requires_grad", False))
    _plant(monkeypatch, op, lambda grads, node: _first(grads, lambda g: g * n))
    report = check(request)
    _assert_caught(report, first.name)
    leaf = report.leaf(first.name)
    np.testing.assert_allclose(leaf.grads["numeric"], n * leaf.grads["symbolic"], rtol=1e-9)
