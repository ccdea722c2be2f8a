"""Float32 forwards that cancel large terms: torch's right float32 gradient is not a mismatch
(engine/forward_rounding.py, the saturated-softmax magnitude terms, finite differences that do not
converge), while planted bugs of realistic size in the same graphs are still caught.

torch's gradients are recorded in tests/golden/float32_cancel.json
(tests/golden/make_golden_float32_cancel.py). On main before this change all five cases were a
false `mismatch`."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.forward_rounding import UNIT_ROUNDOFF, rounding_spreads
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.precision import gradient_dtypes
from crossgrad.engine.tolerance import Tolerance

from tests.float32_cancel_cases import cases, graph

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "float32_cancel.json").read_text())["grads"]
# torch's gradient is right at float32's resolution: agree, or unresolved where rounding swamps it
EXPECTED = {"offset 1e4 square": "agree", "var 1e4 mean": "unresolved", "softmax saturated": "agree",
            "layer_norm 1e6 offset": "unresolved", "batch_norm 1e6 offset": "unresolved"}


def _torch(name: str) -> dict[str, np.ndarray]:
    return {k: np.array(v, np.float32) for k, v in GOLDEN[name].items()}


def _with(grad: np.ndarray, change: object) -> np.ndarray:
    bad = grad.copy().ravel()
    k = int(np.abs(bad).argmax())
    bad[k] = change(bad[k])  # type: ignore[operator]
    return bad.reshape(grad.shape)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_torch_float32_gradient_is_not_a_mismatch(name: str) -> None:
    report = check(CheckRequest(graph(name), claimed=_torch(name)))
    assert report.verdict == EXPECTED[name], str(report)
    claimed = [p for leaf in report.leaves for p in leaf.pairs if "claimed" in p.witnesses]
    assert claimed and all(p.verdict != "mismatch" for p in claimed)


@pytest.mark.parametrize("name", ["offset 1e4 square", "var 1e4 mean", "softmax saturated", "layer_norm 1e6 offset"])
def test_a_sign_flipped_element_is_still_caught(name: str) -> None:
    claims = _torch(name)
    report = check(CheckRequest(graph(name), claimed={"x": _with(claims["x"], lambda v: -v)}))
    assert report.verdict == "mismatch"
    pair = next(p for p in report.leaves[0].pairs if p.witnesses == ("claimed", "symbolic"))
    assert pair.mismatched == 1


@pytest.mark.parametrize(("name", "factor"), [("offset 1e4 square", 1.01), ("var 1e4 mean", 1.1)])
def test_one_element_a_few_percent_off_is_still_caught(name: str, factor: float) -> None:
    """float32 rounding moves these gradients ~0.05% (offset) and ~0.5% (var of 6 values at 1e4):
    one element 1% (10%) off is a resolvable bug."""
    report = check(CheckRequest(graph(name), claimed={"x": _with(_torch(name)["x"], lambda v: v * factor)}))
    assert report.verdict == "mismatch"


def test_a_planted_numeric_bug_in_the_cancelling_graph_is_caught() -> None:
    """The numeric square VJP one element 2% off: mismatch, numeric the suspect."""
    rule = RULES["square"]

    def vjp(g: np.ndarray, s: object, n: object) -> tuple:
        (gx,) = rule.vjp(g, s, n)
        gx = np.array(gx, copy=True)
        gx.flat[int(np.abs(gx).argmax())] *= 1.02
        return (gx,)

    RULES["square"] = Rule(rule.forward, vjp)
    try:
        report = check(CheckRequest(graph("offset 1e4 square")))
    finally:
        RULES["square"] = rule
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric"


def test_float64_offset_1e12() -> None:
    """(x + 1e12) - 1e12 in float64: the engine's float64 gradient agrees (it was a mismatch);
    one element 1% off is a mismatch."""
    x = np.random.default_rng(4).standard_normal(6)
    ops = [OpNode("a", "add", ("x", "c")), OpNode("b", "sub", ("a", "c")), OpNode("q", "square", ("b",)),
           OpNode("l", "sum", ("q",))]
    g = Graph((Leaf("x", x, True), Leaf("c", np.full(6, 1e12), False), *ops), "l")
    report = check(CheckRequest(g))
    assert report.verdict == "agree", str(report)
    numeric = report.leaves[0].grads["numeric"]
    assert np.abs(numeric - 2 * x).max() > 1e-6  # float64 rounding really moved it
    assert check(CheckRequest(g, claimed={"x": _with(numeric, lambda v: v * 1.01)})).verdict == "mismatch"


def test_spread_is_the_size_float32_rounding_gives() -> None:
    """((x + M) - M)^2: the gradient 2b moves by ~2 eps M; without the offset by ~eps |2x|."""
    eps = UNIT_ROUNDOFF["float32"]
    for offset in (1e4, 0.0):
        x = cases()["offset 1e4 square"][1]["x"]
        g = graph("offset 1e4 square")
        nodes = [Leaf("c", np.full((4, 6), offset, np.float32), False) if getattr(n, "name", "") == "c" else n
                 for n in g.nodes]
        plan = validate(Graph(tuple(nodes), g.output))
        spread = rounding_spreads(plan, np.ones(()), gradient_dtypes(plan))[plan.grad_leaves()[0]]
        size = 2 * eps * max(offset, 1.0) * (1 if offset else np.abs(x))
        assert np.all(spread < 20 * size) and np.median(spread / size) > 0.3


def test_an_explicit_tolerance_is_the_whole_tolerance() -> None:
    """An override gets no rounding allowance: Tolerance(1e-4, 1e-5, 1e-6) is the default row
    without it, and torch's float32 gradient of the offset graph is then a mismatch."""
    report = check(CheckRequest(graph("offset 1e4 square"), claimed=_torch("offset 1e4 square"),
                                tolerance=Tolerance(1e-4, 1e-5, 1e-6)))
    assert report.verdict == "mismatch"


def test_unresolved_note_names_the_cancellation() -> None:
    report = check(CheckRequest(graph("layer_norm 1e6 offset"), claimed=_torch("layer_norm 1e6 offset")))
    assert any("cancels large terms" in note for note in report.notes)
    assert not any("weight the loss" in note for note in report.notes)


def test_finite_differences_whose_quotients_do_not_converge_are_unreliable() -> None:
    """A layer norm row at 1e6: the step (6e-6 x 1e6 = 6) exceeds the scale the function varies on,
    the quotients grow as the step shrinks (-0.49, -1.33, -3.66 where the derivative is -400), and
    the error estimate is infinite there; at a smooth, well-scaled element it stays small."""
    from crossgrad.engine import finite_diff

    plan = validate(graph("layer_norm 1e6 offset"))
    leaf = plan.grad_leaves()[0]
    seed = np.ones(())
    quotients = finite_diff.finite_differences(plan, seed).grads[leaf]
    errors = finite_diff.error_estimates(plan, seed, leaf, [(0, 2), (1, 3)], quotients[[0, 1], [2, 3]])
    assert np.isinf(errors[0]) and np.isfinite(errors[1])
    smooth = validate(graph("offset 1e4 square"))
    x = smooth.grad_leaves()[0]
    q = finite_diff.finite_differences(smooth, seed).grads[x]
    assert np.all(finite_diff.error_estimates(smooth, seed, x, [(0, 0), (2, 3)], q[[0, 2], [0, 3]]) < 1e-3)


def test_a_planted_var_bug_blames_numeric() -> None:
    """var of values at 1e4 is quadratic: finite differences agree with symbolic to 1e-11, so a
    sign-flipped numeric var VJP element is numeric's fault (finite differences were wrongly called
    unreliable there, leaving no suspect)."""
    rule = RULES["var"]

    def vjp(g: np.ndarray, s: object, n: object) -> tuple:
        gx, *rest = rule.vjp(g, s, n)
        gx = np.array(gx, copy=True)
        gx.flat[int(np.abs(gx).argmax())] *= -1
        return (gx, *rest)

    RULES["var"] = Rule(rule.forward, vjp)
    try:
        report = check(CheckRequest(graph("var 1e4 mean")))
    finally:
        RULES["var"] = rule
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric"
