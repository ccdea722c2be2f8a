"""The elementwise ops against real PyTorch (tests/golden/elementwise.json, made by
make_golden_elementwise.py with torch 2.13): grad_fn names, values and gradients in float32 and
float64, the kink conventions at exact kinks — and each VJP's classic bugs are caught."""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.check import check
from crossgrad.engine.numeric.dispatch import apply
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

from .catalogue_inputs import case_inputs, resolved_attrs
from .graphs import case_request

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "elementwise.json").read_text())
TOL = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-12, "atol": 1e-13}}


@pytest.mark.parametrize("golden", GOLDEN["ops"], ids=lambda g: f"{g['op']}-{g['case']}-{g['dtype']}")
def test_op_matches_pytorch(golden):
    spec = ops.CATALOGUE[golden["op"]]
    (x,) = case_inputs(spec, spec.cases[golden["case"]], seed=0)
    dtype = getattr(crossgrad, golden["dtype"])
    t = crossgrad.tensor(x, dtype=dtype, requires_grad=True)
    out = apply(spec.name, (t,), resolved_attrs(spec, spec.cases[golden["case"]]))
    assert type(out.grad_fn).__name__ == golden["grad_fn"] and out.dtype is dtype
    np.testing.assert_allclose(out.detach().numpy(), golden["out"], **TOL[golden["dtype"]])
    cot = np.random.default_rng(7).standard_normal(tuple(out.shape))
    out.backward(crossgrad.tensor(cot, dtype=dtype))
    assert t.grad.dtype is dtype
    np.testing.assert_allclose(t.grad.numpy(), golden["grad"], **TOL[golden["dtype"]])


@pytest.mark.parametrize("golden", GOLDEN["kinks"], ids=lambda g: g["op"])
def test_kink_conventions_are_pytorchs(golden):
    """clamp passes the gradient at its bounds, hardtanh does not; leaky_relu/elu take the left slope at 0."""
    spec = ops.CATALOGUE[golden["op"]]
    t = crossgrad.tensor(golden["values"], dtype=crossgrad.float64, requires_grad=True)
    apply(spec.name, (t,), ops.resolve_attrs(spec, golden["attrs"])).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), golden["grad"])
    graph_check = crossgrad.check(apply(spec.name, (t,), ops.resolve_attrs(spec, golden["attrs"])).sum())
    assert graph_check.verdict in ("agree", "convention")  # SymPy and finite differences differ only there


ELEMENTWISE = [spec.name for spec in __import__("crossgrad.engine.ops_elementwise", fromlist=["x"]).ELEMENTWISE_SPECS]
BUGS = {
    "dropped factor": lambda v: v * 0.5,
    "wrong sign": lambda v: -v,
    "one element off": lambda v: np.where(np.arange(v.size).reshape(v.shape) == 0, v + 0.1 * (1 + np.abs(v)), v),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_planted_bugs_are_caught_suspect_numeric(monkeypatch, name, bug):
    request = case_request(name, 0, np.float64, seed=5)
    rule = RULES[name]
    monkeypatch.setitem(RULES, name, Rule(rule.forward, lambda g, s, n: tuple(
        None if v is None else BUGS[bug](v) for v in rule.vjp(g, s, n))))
    report = check(request)
    leaf = report.leaf("input")
    assert report.verdict == "mismatch" and leaf.suspect == "numeric", str(report)
