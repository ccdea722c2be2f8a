"""Kinks and ties composed through the graph (issue 20, item 5): valid conventions are never
false alarms, a rule outside every valid convention still is a mismatch."""

from __future__ import annotations

import os

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.kinks import hulls
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.numeric.run_graph import forward_values
from hypothesis import given, settings
from hypothesis import strategies as st

DTYPES = [torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_scaled_kink_is_convention_slack_is_relative(dtype):
    x = torch.tensor([0.0, 1.0, -1.0], dtype=dtype, requires_grad=True)
    assert torch.check((torch.relu(x) * 1e-3).sum()).verdict == "convention"


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_kinks_at_one_point(dtype):
    x = torch.tensor([0.0, 1.0, -1.0], dtype=dtype, requires_grad=True)
    report = torch.check(torch.minimum(torch.relu(x), x).sum(), names={"x": x})
    numeric, symbolic, fd = (report.grad("x", w)[0] for w in ("numeric", "symbolic", "finite_difference"))
    assert (numeric, symbolic, fd) == pytest.approx((0.5, 0.75, 1.0), abs=1e-6)  # three valid compositions
    assert report.verdict == "convention"


def test_the_hull_of_branch_choices_is_the_composed_clarke_interval():
    graph = Graph((Leaf("x", np.array([0.0, 1.0, -1.0]), True), OpNode("r", "relu", ("x",)),
                   OpNode("m", "minimum", ("r", "x")), OpNode("out", "sum", ("m",))), "out")
    plan = validate(graph)
    lo, hi = hulls(plan, np.ones(()), forward_values(plan))[0]
    np.testing.assert_array_equal(lo, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(hi, [1.0, 1.0, 1.0])


def test_a_tie_that_exists_only_in_float32_arithmetic():
    e = torch.tensor([0.3, 0.7, -1.1], requires_grad=True)
    assert torch.check(torch.minimum(e.detach() * 1.0, e).sum()).verdict in ("agree", "convention")


def test_abs_times_x_at_zero():
    x = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64, requires_grad=True)
    assert torch.check((torch.abs(x) * x).sum()).verdict in ("agree", "convention")


def test_a_rule_outside_every_convention_is_still_a_mismatch(monkeypatch):
    relu = RULES["relu"]
    monkeypatch.setitem(RULES, "relu", Rule(relu.forward, lambda g, s, n: (g * ((s[0] > 0) + 2.0 * (s[0] == 0)),)))
    x = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64, requires_grad=True)
    report = torch.check(torch.relu(x).sum(), names={"x": x})  # relu'(0) = 2 is no one-sided derivative
    assert report.verdict == "mismatch" and report.leaf("x").suspect == "numeric"


LEAVES = st.lists(st.integers(-2, 2), min_size=3, max_size=3)
KINKY = {
    "relu": torch.relu, "abs": torch.abs, "neg": lambda t: -t, "tanh": torch.tanh, "double": lambda t: t * 2,
}
PAIRS = {"maximum": torch.maximum, "minimum": torch.minimum, "add": lambda a, b: a + b, "mul": lambda a, b: a * b}
step = st.one_of(st.tuples(st.sampled_from(sorted(KINKY)), st.integers(0, 9), st.just(0)),
                 st.tuples(st.sampled_from(sorted(PAIRS)), st.integers(0, 9), st.integers(0, 9)))


@settings(max_examples=int(os.environ.get("CROSSGRAD_KINK_EXAMPLES", "80")), deadline=None)
@given(a=LEAVES, b=LEAVES, program=st.lists(step, min_size=1, max_size=5), double=st.booleans())
def test_random_graphs_on_integers_raise_no_false_alarm(a, b, program, double):
    """Leaves on integers make ties and kinks common; every witness is right, so never a mismatch."""
    dtype = torch.float64 if double else torch.float32
    values = [torch.tensor(a, dtype=dtype, requires_grad=True), torch.tensor(b, dtype=dtype, requires_grad=True)]
    for name, i, j in program:
        x, y = values[i % len(values)], values[j % len(values)]
        values.append(KINKY[name](x) if name in KINKY else PAIRS[name](x, y))
    out = sum(v.sum() * (0.5 + k) for k, v in enumerate(values[2:]))
    report = torch.check(out)
    assert report.verdict in ("agree", "convention"), str(report)
