"""Order-2 checks at max pooling / max(dim) ties (engine/hessian_ties.py): SymPy's Heaviside(0) = 1/2
gives each tied pair w/2 where PyTorch's first-maximum rule gives 0, and finite differences of
PyTorch's gradient give 0 on both sides: where the direction breaks the tie the gradient is
set-valued, so these are conventions; a wrong second derivative off the ties is still a mismatch."""

from __future__ import annotations

import crossgrad as cg
import crossgrad.nn.functional as F  # noqa: N812
import numpy as np
import pytest
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule, traced

W = np.array([[[[0.3, -0.7], [1.1, 0.4]]]])
TIES = [[1.0, 1.0, 0.5, 0.2], [0.3, 0.1, 0.5, 0.5], [2.0, 2.0, 2.0, 2.0], [0.0, -1.0, 3.0, 3.0]]


def _x(rows: list) -> cg.Tensor:
    return cg.tensor(np.array(rows)[None, None], dtype=cg.float64, requires_grad=True)


CASES = {
    "max_pool2d": lambda: (F.max_pool2d(_x(TIES), 2) ** 2 * cg.tensor(W)).sum(),
    "adaptive_max_pool2d": lambda: (F.adaptive_max_pool2d(_x(TIES), 2) ** 2 * cg.tensor(W)).sum(),
    "max(dim)": lambda: (_x(TIES[1:3])[0, 0].max(1).values ** 2 * cg.tensor([0.3, -0.7])).sum(),
    "amax": lambda: (_x(TIES[1:3])[0, 0].amax(1) ** 2 * cg.tensor([0.3, -0.7])).sum(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_second_derivatives_at_ties_are_conventions(name):
    with np.errstate(all="ignore"):
        report = cg.check(CASES[name](), order=2)
    assert report.verdict == "convention", str(report)


def test_the_tied_pair_gets_zero_from_torch_and_a_quarter_share_from_sympy():
    with np.errstate(all="ignore"):
        report = cg.check(CASES["max_pool2d"](), order=2)
    grads = report.leaves[0].grads  # [direction (flat x element), 1, 1, 4, 4]
    d = 1 * 4 + 3  # x[1, 3] = 0.5, tied with x[0, 2] (the first maximum) and x[1, 2]
    assert grads["numeric"][d, 0, 0, 1, 2] == 0.0
    assert grads["symbolic"][d, 0, 0, 1, 2] == pytest.approx(2 * W[0, 0, 0, 1] / 4)  # 2 w H(0) H(0)
    assert grads["finite_difference"][d, 0, 0, 1, 2] == 0.0
    pair = report.leaves[0].pairs[0]
    assert pair.witnesses == ("numeric", "symbolic") and pair.mismatched == 0 and pair.kinks > 0


def test_a_direction_that_leaves_a_tie_alone_keeps_the_quotient_test(monkeypatch):
    """max_pool2d's VJP 1.5x too large under create_graph only (first order right): its second
    derivative is wrong at the untied windows (and, by design, excused at the tied ones)."""
    good = RULES["max_pool2d"]

    def wrong(g, saved, node):  # noqa: ANN001, ANN202
        out = good.vjp(g, saved, node)
        return tuple(v * 1.5 for v in out) if traced(g) else out

    monkeypatch.setitem(RULES, "max_pool2d", Rule(good.forward, wrong))
    rows = [[1.0, 1.0, 0.5, 0.2], [0.3, 0.1, 0.4, 0.6], [2.0, 2.0, 2.5, 2.0], [0.0, -1.0, 1.0, 3.0]]
    make = lambda: (F.max_pool2d(_x(rows), 2) ** 2 * cg.tensor(W)).sum()  # noqa: E731
    assert cg.check(make()).verdict in ("agree", "convention")
    with np.errstate(all="ignore"):
        report = cg.check(make(), order=2)
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric", str(report)
    bad = set(report.leaves[0].pairs[1].mismatched_indices)  # numeric ~ finite_difference
    assert bad == {(1 * 4 + 3, 0, 0, 1, 3), (3 * 4 + 3, 0, 0, 3, 3)}  # the untied maxima: d^2/dx^2 = 2 w
    # (windows 0 and 2 are tied: their elements are excused by design)
    assert [c.op for c in report.culprits] == ["max_pool2d"]  # checked alone, the only op at fault
    assert "max_pool2d under create_graph" in str(report) and "by its output adjoint" in str(report)


def test_a_wrong_double_backward_is_named_at_its_own_node(monkeypatch):
    """pow's VJP with x detached (relu(x)^2 loses its curvature): pow is named, not relu or mul."""
    good = RULES["pow"]

    def detached(g, saved, node):  # noqa: ANN001, ANN202
        x = saved[0]._data if hasattr(saved[0], "_data") else saved[0]
        return (g * node.attrs["exponent"] * x ** (node.attrs["exponent"] - 1),)

    monkeypatch.setitem(RULES, "pow", Rule(good.forward, detached))
    x = cg.tensor([0.0, 1.5, -2.0], dtype=cg.float64, requires_grad=True)
    report = cg.check((cg.relu(x) ** 2 * cg.tensor([0.3, -0.7, 1.1], dtype=cg.float64)).sum(), order=2)
    assert report.verdict == "mismatch"
    assert [(c.op, c.input, c.index) for c in report.culprits] == [("pow", 0, (1, 1))]
    from crossgrad.server.wire import response_out

    sent = response_out(report).culprits  # over the wire as a backward culprit with its own message
    assert [(c.op, c.node) for c in sent] == [("pow", report.culprits[0].node)]
    assert "checked alone at order 2" in sent[0].message


def test_a_right_graph_names_nothing_and_pays_nothing():
    with np.errstate(all="ignore"):
        report = cg.check(CASES["max_pool2d"](), order=2)
    assert report.culprits == [] and "localize" not in report.timings
