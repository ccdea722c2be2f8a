"""crossgrad.check end to end: kinks, closed forms, non-finite values, caching, claimed answers,
directional finite differences, and no false alarms on random graphs."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
import sympy as sp
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.symbolic import closed_form, exact
from crossgrad.engine.tolerance import Tolerance
from hypothesis import example, given
from hypothesis import strategies as st

from .test_random_graphs import SHAPES, run, step


def seed_graph():
    torch.manual_seed(1)
    x, y = torch.ones(5), torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    return x, y, w, b, z, F.binary_cross_entropy_with_logits(z, y)


def test_seed_graph_agrees_and_report_reads_well():
    *_, w, b, z, loss = seed_graph()
    report = torch.check(loss, names={"w": w, "b": b})
    assert report.verdict == "agree" and report.tier == "exact"
    assert report.finite_difference == "per_element"
    text = str(report)
    assert "crossgrad check: AGREE" in text and "numeric ~ symbolic" in text
    np.testing.assert_allclose(report.grad(w, "numeric"), np.tile(report.grad(b, "numeric"), (5, 1)))


def test_seed_closed_form_for_b_is_sigmoid_minus_y_over_3():
    """dL/db_j = (sigmoid(z_j) - y_j) / 3, both as a formula and as the exact tier's value."""
    x, y, w, b, z, loss = seed_graph()
    report = torch.check(loss, names={"w": w, "b": b}, formulas=True)
    zv = z.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(report.grad(b, "symbolic"), (1 / (1 + np.exp(-zv)) - 0) / 3, rtol=1e-6)
    from crossgrad.engine.numeric.export import to_graph

    graph, _ = to_graph(loss, {id(w): "w", id(b): "b"})
    plan = validate(graph)
    forms = closed_form.closed_forms(plan, np.ones(()))
    b_index = plan.index["b"]
    for j, expr in enumerate(forms[b_index]):
        zj = sp.Symbol(f"b[{j}]", real=True) + sum(sp.Symbol(f"w[{i},{j}]", real=True) for i in range(5))
        assert sp.simplify(expr - (1 / (1 + sp.exp(-zj)) - 0) / 3) == 0
    leaf_b = report.leaf(b)
    assert leaf_b.closed_form and leaf_b.closed_form_latex and "b[0]" in leaf_b.closed_form[0]


@pytest.mark.parametrize(("fn", "numeric", "symbolic"), [
    (lambda t: torch.relu(t), 0.0, 0.5),
    (lambda t: torch.abs(t), 0.0, 0.0),
    (lambda t: torch.maximum(t, torch.tensor([0.0, 0.0], dtype=torch.float64)), 0.5, 0.5),
])
def test_golden_kinks_are_conventions(fn, numeric, symbolic):
    x = torch.tensor([0.0, 1.5], dtype=torch.float64, requires_grad=True)
    report = torch.check(fn(x).sum(), names={"x": x})
    assert report.grad(x, "numeric")[0] == numeric
    assert report.grad(x, "symbolic")[0] == symbolic
    assert report.verdict in ("convention", "agree")
    if numeric != symbolic:
        assert report.verdict == "convention"
        assert next(p for p in report.leaf(x).pairs if p.witnesses == ("numeric", "symbolic")).kinks == 1


def test_a_wrong_kink_rule_is_still_a_mismatch(monkeypatch):
    rule = RULES["relu"]
    monkeypatch.setitem(RULES, "relu", Rule(rule.forward, lambda g, saved, node: (
        np.where(saved[0] == 0, -g, rule.vjp(g, saved, node)[0]),)))
    x = torch.tensor([0.0, 1.5], dtype=torch.float64, requires_grad=True)
    report = torch.check(torch.relu(x).sum(), names={"x": x})
    assert report.verdict == "mismatch" and report.leaf(x).suspect == "numeric"


def test_non_finite_values_are_reported_not_compared():
    x = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    report = torch.check(torch.log(x).sum(), names={"x": x})
    assert report.verdict == "non_finite"
    pair = report.leaf(x).pairs[0]
    assert pair.non_finite == 1 and pair.mismatched == 0
    assert report.grad(x, "symbolic")[1] == pytest.approx(0.5)


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_a_negative_base_to_a_fractional_power_is_non_finite_not_a_crash(tier):
    x = torch.tensor([-2.0, 4.0], dtype=torch.float64, requires_grad=True)
    report = torch.check((x ** torch.tensor([0.5, 0.5], dtype=torch.float64)).sum(), names={"x": x}, tier=tier)
    assert report.verdict == "non_finite"
    assert report.grad(x, "symbolic")[1] == pytest.approx(0.25)


def test_structure_cache_serves_a_graph_with_new_values():
    *_, loss1 = seed_graph()
    torch.check(loss1)
    templates, plans = len(exact._TEMPLATES), len(exact._PLANS)
    torch.manual_seed(99)
    w2 = torch.randn(5, 3, requires_grad=True)
    b2 = torch.randn(3, requires_grad=True)
    loss2 = F.binary_cross_entropy_with_logits(torch.matmul(torch.ones(5), w2) + b2, torch.zeros(3))
    report = torch.check(loss2, names={"b": b2})
    assert (len(exact._TEMPLATES), len(exact._PLANS)) == (templates, plans)
    assert report.verdict == "agree"
    z = (np.ones(5) @ w2.detach().numpy() + b2.detach().numpy()).astype(np.float64)
    np.testing.assert_allclose(report.grad("b", "symbolic"), 1 / (1 + np.exp(-z)) / 3, rtol=1e-6)


def test_claimed_gradients_are_judged():
    *_, w, b, z, loss = seed_graph()
    right = torch.check(loss, names={"w": w, "b": b}).grad(b, "symbolic")
    report = torch.check(loss, names={"w": w, "b": b}, claimed={"b": right * 3})
    assert report.verdict == "mismatch"
    pair = next(p for p in report.leaf(b).pairs if p.witnesses == ("claimed", "symbolic"))
    assert pair.verdict == "mismatch" and pair.mismatched == 3
    assert torch.check(loss, names={"b": b}, claimed={"b": right}).verdict == "agree"


def test_large_graph_uses_seeded_random_directions(monkeypatch):
    torch.manual_seed(0)
    w = torch.randn(50, 50, dtype=torch.float64, requires_grad=True)
    x = torch.randn(3, 50, dtype=torch.float64)
    loss = torch.tanh(x @ w).sum()
    report = torch.check(loss, names={"w": w}, fd_seed=7)
    assert report.finite_difference == "directions (seed 7)" and report.verdict == "agree"
    rule = RULES["matmul"]
    monkeypatch.setitem(RULES, "matmul", Rule(rule.forward, lambda g, s, n: tuple(
        None if v is None else v * 1.01 for v in rule.vjp(g, s, n))))
    bad = torch.check(torch.tanh(x @ w).sum(), names={"w": w})
    verdicts = {p.witnesses: p.verdict for p in bad.leaf(w).pairs}
    assert verdicts[("numeric", "finite_difference")] == "mismatch"
    assert verdicts[("symbolic", "finite_difference")] == "agree"


def test_random_directions_catch_one_wrong_element(monkeypatch):
    """One element off by about the gradient's size moves every sign direction's slope by
    1/sqrt(n) of that: still far outside the tolerance."""
    torch.manual_seed(0)
    w = torch.randn(50, 50, dtype=torch.float64, requires_grad=True)
    x = torch.randn(3, 50, dtype=torch.float64)
    rule = RULES["matmul"]

    def one_off(g, s, n):
        ga, gb = rule.vjp(g, s, n)
        gb = gb.copy()
        gb[7, 11] += 1.0
        return ga, gb

    monkeypatch.setitem(RULES, "matmul", Rule(rule.forward, one_off))
    bad = torch.check(torch.tanh(x @ w).sum(), names={"w": w})
    assert bad.finite_difference.startswith("directions")
    pair = next(p for p in bad.leaf(w).pairs if p.witnesses == ("numeric", "finite_difference"))
    assert pair.verdict == "mismatch" and pair.mismatched == pair.total == 8


def test_exact_tier_computes_only_what_a_derivative_reads():
    """Seed graph: z = x @ w + b feeds the loss's partials, so matmul and add run forward; the
    loss's own value (both of its stages) is never needed, and no partial by the target (which
    does not require grad) is compiled."""
    from crossgrad.engine.numeric.export import to_graph

    *_, loss = seed_graph()
    plan = validate(to_graph(loss)[0])
    programs = exact.compile_plan(plan)
    needed = {plan.graph.nodes[i].op: p.needed for i, p in enumerate(programs) if p is not None}
    assert needed == {"matmul": [True], "add": [True], "binary_cross_entropy_with_logits": [False, False]}
    bce = programs[-1]
    assert bce.wants == [True, False, False, False]
    logits_only = bce.gradients[0][0]
    assert logits_only.reads == frozenset({0, 1})  # sigmoid(z) - y reads z and y
    grads, output = exact.gradients(plan, np.ones(()))
    assert output is None and set(grads) == set(plan.grad_leaves())


def test_exact_tier_takes_floats_exactly():
    """The vectorized float -> mpmath conversion gives mpmath's own from_float tuple for every kind
    of float64: zeros of both signs, subnormals, the extremes, integers, non-finite values."""
    from mpmath.libmp import from_float

    rng = np.random.default_rng(3)
    tiny, big = np.finfo(np.float64).smallest_subnormal, np.finfo(np.float64).max
    values = np.concatenate([rng.standard_normal(200), rng.standard_normal(50) * 1e300,
                             rng.standard_normal(50) * 1e-310, rng.integers(-2**40, 2**40, 50).astype(float),
                             [0.0, -0.0, tiny, -tiny, big, -big, 2.0**-1022, 1.0, -3.0, 2.0**60]])
    assert exact._mpfs(values) == [from_float(v) for v in values.tolist()]
    with_nan = np.array([1.5, np.nan, -np.inf])
    assert exact._mpfs(with_nan) == [from_float(v) for v in with_nan.tolist()]


def test_tolerance_override_and_tiers():
    *_, w, b, z, loss = seed_graph()
    strict = torch.check(loss, names={"w": w, "b": b}, tolerance=Tolerance(0.0, 0.0))
    assert strict.verdict == "mismatch"  # float32 numeric vs the 40-digit reference differs in the last bits
    off = torch.check(loss, names={"b": b}, tier="off")
    assert off.tier == "off" and off.grad(b, "symbolic") is None and off.verdict == "agree"
    tensor = torch.check(loss, names={"b": b}, tier="tensor")
    assert tensor.tier == "tensor" and tensor.verdict == "agree"
    np.testing.assert_allclose(tensor.grad(b, "symbolic"), off.grad(b, "numeric"), rtol=1e-6)


def test_non_scalar_output_needs_a_seed():
    from crossgrad.engine.graph import GraphError

    graph = Graph((Leaf("a", np.ones(3), True), OpNode("out", "exp", ("a",))), "out")
    with pytest.raises(GraphError, match="scalar"):
        check(CheckRequest(graph))
    assert check(CheckRequest(graph, np.arange(3.0))).verdict == "agree"


@given(shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
       program=st.lists(step, min_size=1, max_size=5), seed=st.integers(0, 2**16),
       double=st.booleans())
# softmax(x).sum() where both scrambling rounds drew one sign per 3-element row: the rounding
# noise's scale came out 1e-18 and the noise was a false mismatch (signs alone kept it cancelling)
@example(shapes=[(2, 3), ()], program=[("u", "softmax", 0, 0), ("u", "exp_tanh", 1, 0)], seed=0, double=False)
def test_no_false_alarms_on_random_graphs(shapes, program, seed, double):
    rng = np.random.default_rng(seed)
    dtype = torch.float64 if double else torch.float32
    leaves = [torch.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in shapes]
    out = run(program, leaves)
    if not out.requires_grad:
        return
    gradient = None if out.numel() == 1 else rng.standard_normal(tuple(out.shape))
    report = torch.check(out, gradient)
    assert report.verdict in ("agree", "unresolved"), str(report)
    for leaf in report.leaves:  # unresolved only where the exact gradient is rounding noise
        if leaf.verdict == "unresolved":
            exact = np.abs(leaf.grads["symbolic"])
            noise = [p.unresolved for p in leaf.pairs]
            assert max(noise) > 0 and np.sort(exact.ravel())[max(noise) - 1] <= 1e-5, str(report)


def test_nodes_after_the_output_are_ignored():
    graph = Graph((Leaf("x", np.array([0.0, 1.0]), True), OpNode("out", "sum", ("x",)),
                   OpNode("later", "relu", ("x",))), "out")
    assert check(CheckRequest(graph)).verdict == "agree"


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_a_graph_without_differentiable_leaves_is_skipped_not_a_crash(tier):
    """Nothing requires grad: no witness has anything to compare (found by the fuzzer)."""
    graph = Graph((Leaf("x", np.array(0.0, np.float32), False),), "x")
    report = check(CheckRequest(graph, tier=tier))
    assert report.verdict == "skipped" and report.leaves == []
    graph = Graph((Leaf("x", np.array([1.0, 2.0]), False), OpNode("out", "sum", ("x",))), "out")
    assert check(CheckRequest(graph, tier=tier)).verdict == "skipped"


@pytest.mark.parametrize("cut", ["detach", "no_grad"])
def test_detached_values_are_constants_to_every_witness(cut):
    """out = sum(x * c) where c = exp(x) is detached (a detach op, or computed under no_grad):
    d out/dx = c, not c + x c, for finite differences too (they hold c at its value). Checked
    inside and outside torch.no_grad(): the witnesses set their own grad mode."""
    x = np.array([0.5, -1.0, 2.0])
    c = OpNode("c", "detach", ("e",)) if cut == "detach" else OpNode("c", "exp", ("x",), no_grad=True)
    graph = Graph((Leaf("x", x, True), OpNode("e", "exp", ("x",)), c, OpNode("m", "mul", ("x", "c")),
                   OpNode("out", "sum", ("m",))), "out")
    for inside in (False, True):
        if inside:
            with torch.no_grad():
                report = check(CheckRequest(graph))
        else:
            report = check(CheckRequest(graph))
        assert report.verdict == "agree", str(report)
        for witness in ("numeric", "symbolic", "finite_difference"):
            np.testing.assert_allclose(report.grad("x", witness), np.exp(x), rtol=1e-6)
