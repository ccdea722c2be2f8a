"""wire_fast builds the same CheckStream answer as wire.stream_response (and the same unary answer as
wire.response_out), over many kinds of report."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.tolerance import Tolerance
from crossgrad.server import wire, wire_fast
from crossgrad.v1 import crossgrad_pb2 as pb

RNG = np.random.default_rng(7)


def _mlp(dtype: type, claimed: dict | None = None, **options) -> CheckRequest:
    graph = Graph((Leaf("x", RNG.standard_normal((4, 5)).astype(dtype)),
                   Leaf("w", RNG.standard_normal((5, 3)).astype(dtype), True),
                   Leaf("b", RNG.standard_normal(3).astype(dtype), True),
                   OpNode("h", "matmul", ("x", "w")), OpNode("z", "add", ("h", "b")), OpNode("t", "tanh", ("z",)),
                   OpNode("s", "sum", ("t",), {"dim": None, "keepdim": False})), "s")
    return CheckRequest(graph, claimed=claimed or {}, **options)


def _relu_at_kink() -> CheckRequest:
    graph = Graph((Leaf("x", np.array([0.0, 1.0, -2.0]), True), OpNode("r", "relu", ("x",)),
                   OpNode("s", "sum", ("r",), {"dim": None, "keepdim": False})), "s")
    return CheckRequest(graph)


def _non_finite() -> CheckRequest:
    graph = Graph((Leaf("x", np.array([0.0, 4.0]), True), OpNode("r", "sqrt", ("x",)),
                   OpNode("s", "sum", ("r",), {"dim": None, "keepdim": False})), "s")
    return CheckRequest(graph)


def _vector_output() -> CheckRequest:
    graph = Graph((Leaf("x", RNG.standard_normal(300), True), OpNode("e", "exp", ("x",))), "e")
    return CheckRequest(graph, seed=RNG.standard_normal(300))


def _wrong_claim() -> CheckRequest:
    request = _mlp(np.float32)
    right = check(request).grad("w", "symbolic")
    wrong = right.copy()
    wrong[1, 2] += 0.5
    wrong[3, 0] -= 0.25
    return CheckRequest(request.graph, claimed={"w": wrong})


CASES = {
    "agree float32": lambda: _mlp(np.float32),
    "agree float64 with a tolerance": lambda: _mlp(np.float64, tolerance=Tolerance(1e-3, 1e-4, 1e-7)),
    "two witnesses (pairs skipped)": lambda: _mlp(np.float64, witnesses=("numeric", "finite_difference")),
    "wrong claimed (mismatches listed, culprits)": _wrong_claim,
    "closed forms": lambda: CheckRequest(_relu_at_kink().graph, formulas=True),
    "kink convention": _relu_at_kink,
    "non-finite": _non_finite,
    "vector output, 300 elements (packed data)": _vector_output,
    "order 2": lambda: CheckRequest(Graph((Leaf("x", np.array([0.5, -1.0]), True), OpNode("t", "tanh", ("x",)),
                                           OpNode("s", "sum", ("t",), {"dim": None, "keepdim": False})), "s"),
                                     order=2),
}
_REPORTS: dict = {}


def _report(name: str):
    if name not in _REPORTS:
        _REPORTS[name] = check(CASES[name]())
    return _REPORTS[name]


def _same(a, b) -> None:
    assert a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("figures_only", [False, True])
def test_the_answer_equals_wire_stream_response(name, figures_only):
    report = _report(name)
    expected = wire.stream_response(report, figures_only)
    expected.batched = True
    _same(wire_fast.stream_response(report, figures_only, batched=True), expected)
    expected.batched = False
    _same(wire_fast.stream_response(report, figures_only), expected)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("figures_only", [False, True])
def test_a_unary_answer_equals_wire_response_out(name, figures_only):
    report = _report(name)
    _same(wire_fast.response_out(report, figures_only), wire.response_out(report, figures_only))


def test_the_cases_cover_what_they_say():
    reports = {name: _report(name) for name in CASES}
    pairs = lambda r: [p for leaf in r.leaves for p in leaf.pairs]  # noqa: E731
    assert reports["agree float32"].verdict == "agree"
    assert any(p.mismatched_indices for p in pairs(reports["wrong claimed (mismatches listed, culprits)"]))
    assert any(p.verdict == "skipped" for p in pairs(reports["two witnesses (pairs skipped)"]))
    assert reports["closed forms"].leaves[0].closed_form
    assert any(p.kinks for p in pairs(reports["kink convention"]))
    assert any(p.non_finite for p in pairs(reports["non-finite"]))
    assert reports["order 2"].order == 2
    assert reports["vector output, 300 elements (packed data)"].output.size == 300
    assert all(p.tolerance == Tolerance(1e-3, 1e-4, 1e-7) for p in pairs(reports["agree float64 with a tolerance"])
               if p.verdict != "skipped")


def test_a_report_of_int_output_takes_the_message_way():
    """A non-float tensor (an int output) is written as tensor_out writes it."""
    report = check(_mlp(np.float32))
    report.output = np.array([3, 4], np.int64)
    _same(wire_fast.stream_response(report), wire.stream_response(report))
    assert list(pb.CheckStreamResponse.FromString(
        wire_fast.stream_response(report).SerializeToString()).response.output.int_data) == [3, 4]
