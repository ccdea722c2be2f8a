"""The reductions against real PyTorch (tests/golden/reductions.json, made by
make_golden_reductions.py with torch 2.13): grad_fn names, values and gradients in float32 and
float64, tie conventions, the Tensor API's (values, indices) — and planted bugs caught."""

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
from crossgrad.engine.ops_reductions import REDUCTION_SPECS

from .catalogue_inputs import case_inputs, resolved_attrs
from .graphs import case_request

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "reductions.json").read_text())
TOL = {"float32": {"rtol": 3e-5, "atol": 3e-6}, "float64": {"rtol": 1e-11, "atol": 1e-12}}


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
    np.testing.assert_allclose(t.grad.numpy(), golden["grad"], **TOL[golden["dtype"]])


@pytest.mark.parametrize("golden", GOLDEN["ties"], ids=lambda g: g["op"])
def test_tie_conventions_are_pytorchs_and_check_calls_them_conventions(golden):
    t = crossgrad.tensor(golden["values"], dtype=crossgrad.float64, requires_grad=True)
    out = apply(golden["op"], (t,), ops.resolve_attrs(ops.CATALOGUE[golden["op"]], golden["attrs"])).sum()
    assert crossgrad.check(out).verdict in ("agree", "convention")
    out.backward()
    np.testing.assert_array_equal(t.grad.numpy(), golden["grad"])


def test_the_tensor_api():
    x = crossgrad.tensor([[1.0, 3.0, 3.0], [2.0, -1.0, 0.5]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0] and indices.dtype is crossgrad.int64
    assert x.max(dim=1).indices.tolist() == [1, 0] and crossgrad.min(x, 0, keepdim=True).indices.tolist() == [[0, 1, 1]]
    assert type(x.max().grad_fn).__name__ == "MaxBackward1"
    assert x.var(1, correction=0).tolist() == pytest.approx([8 / 9, 1.5])
    assert x.var(1, unbiased=False).tolist() == pytest.approx([8 / 9, 1.5])
    assert crossgrad.cumsum(x, 1).tolist() == [[1.0, 4.0, 7.0], [2.0, 1.0, 1.5]]
    assert crossgrad.logsumexp(x, dim=1).shape == (2,) and x.argmin(1).tolist() == [0, 1]
    with pytest.raises(NotImplementedError, match="p=3"):
        crossgrad.norm(x, p=3)


BUGS = {"dropped factor": lambda v: v * 0.5, "wrong sign": lambda v: -v,
        "one element off": lambda v: np.where(np.arange(v.size).reshape(v.shape) == 0, v + 0.1 * (1 + np.abs(v)), v)}


@pytest.mark.parametrize("bug", sorted(BUGS))
@pytest.mark.parametrize("name", [spec.name for spec in REDUCTION_SPECS])
def test_planted_bugs_are_caught_suspect_numeric(monkeypatch, name, bug):
    rule = RULES[name]
    monkeypatch.setitem(RULES, name, Rule(rule.forward, lambda g, s, n: tuple(
        None if v is None else BUGS[bug](v) for v in rule.vjp(g, s, n))))
    report = check(case_request(name, 0, np.float64, seed=5))
    assert report.verdict == "mismatch" and report.leaf("input").suspect == "numeric", str(report)


def test_a_wrong_axis_in_a_reduction_is_caught(monkeypatch):
    rule = RULES["logsumexp"]

    def wrong_axis(g, s, n):  # the broadcast back along the wrong dim (a transposed gradient)
        (v,) = rule.vjp(g, s, n)
        return (v[::-1, ::-1].copy(),)

    monkeypatch.setitem(RULES, "logsumexp", Rule(rule.forward, wrong_axis))
    report = check(case_request("logsumexp", 0, np.float64, seed=5))
    assert report.verdict == "mismatch" and report.leaf("input").suspect == "numeric"
