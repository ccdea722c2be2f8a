"""The verdict's holes (issue 20) and the report as a careful user holds it (issue 21), each with
the reproducer from the issue."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.tolerance import FINITE_DIFFERENCE, policy


def _planted(monkeypatch, op, change):
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(rule.forward, lambda g, s, n: change(rule.vjp(g, s, n))))


def _numeric_blamed(report, leaf):
    entry = report.leaf(leaf)
    return report.verdict == "mismatch" and entry.verdict == "mismatch" and entry.suspect == "numeric"


def test_right_values_wrong_shape_is_a_mismatch(monkeypatch):
    _planted(monkeypatch, "exp", lambda grads: tuple(v.reshape(-1) for v in grads))
    x = torch.randn(4, 5, requires_grad=True)
    report = torch.check((torch.exp(x) * torch.full((4, 5), 2.0)).sum(), names={"x": x})
    assert _numeric_blamed(report, "x")
    assert "numeric's gradient has shape [20], the leaf's is [4, 5]" in report.leaf("x").pairs[0].reason


def test_a_missing_broadcast_reduction_is_a_finding_not_an_exception(monkeypatch):
    add = RULES["add"]
    monkeypatch.setitem(RULES, "add", Rule(add.forward, lambda g, s, n: (g, g)))  # no unbroadcast
    b = torch.randn(3, requires_grad=True)
    report = torch.check((torch.randn(2, 3) + b).sum(), names={"b": b})
    assert _numeric_blamed(report, "b")


def test_claimed_of_the_wrong_shape_is_a_mismatch():
    w = torch.randn(2, 3, requires_grad=True)
    report = torch.check((w * w).sum(), names={"w": w}, claimed={"w": np.zeros(6)})
    assert report.verdict == "mismatch" and report.leaf("w").suspect == "claimed"
    assert "claimed's gradient has shape [6]" in str(report)


def test_a_0d_leaf_on_a_kink_is_convention_not_a_crash():
    x = torch.tensor(0.0, requires_grad=True)
    assert torch.check(torch.relu(x)).verdict == "convention"


def test_float32_symbolic_against_finite_differences_uses_the_float32_policy():
    assert policy("float32", ("symbolic", "finite_difference")) == FINITE_DIFFERENCE["float32"]
    assert policy("float64", ("symbolic", "finite_difference")) == FINITE_DIFFERENCE["float64"]


def test_worst_index_is_the_worst_mismatched_element_not_a_kink(monkeypatch):
    relu = RULES["relu"]

    def slightly_off(grads):
        (v,) = grads
        v = v.copy()
        v[2] *= 1.01  # a real, small mismatch at [2]
        return (v,)

    monkeypatch.setitem(RULES, "relu", Rule(relu.forward, lambda g, s, n: slightly_off(relu.vjp(g, s, n))))
    graph = Graph((Leaf("x", np.array([0.0, 1.0, 2.0]), True), OpNode("r", "relu", ("x",)),
                   OpNode("out", "sum", ("r",))), "out")
    report = check(CheckRequest(graph))
    pair = report.leaf("x").pairs[0]  # numeric ~ symbolic: 0 vs 1/2 at the kink [0] is the larger gap
    assert pair.kinks == 1 and pair.mismatched == 1 and pair.worst_index == (2,)
    assert pair.mismatched_indices == [(2,)]


def test_a_nan_in_one_witness_where_the_others_agree_blames_it(monkeypatch):
    def nan_first(grads):
        (v,) = grads
        v = v.copy()
        v[0] = np.nan
        return (v,)

    _planted(monkeypatch, "tanh", nan_first)
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    report = torch.check(torch.tanh(x).sum(), names={"x": x})
    assert _numeric_blamed(report, "x")
    assert "numeric is not finite at 1 element(s) where the others agree" in str(report)


def test_a_genuinely_infinite_gradient_stays_non_finite():
    x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    assert torch.check(torch.sqrt(x).sum(), names={"x": x}).verdict == "non_finite"  # d sqrt at 0 is inf


# --- issue 21: never a silent pass ------------------------------------------------------------
def _three_wrong():
    torch.manual_seed(0)
    w = torch.randn(512, 784, requires_grad=True)
    loss = (w * 0.5).sum()
    claimed = np.full((512, 784), 0.5, np.float32)
    for index, delta in (((100, 700), 1.0), ((3, 5), 0.25), ((511, 0), -2.0)):
        claimed[index] += delta
    return torch.check(loss, names={"w": w}, claimed={"w": claimed}, tier="tensor")


def test_every_mismatched_element_is_data_and_listed():
    report = _three_wrong()
    pair = next(p for p in report.leaf("w").pairs if p.witnesses == ("claimed", "symbolic"))
    assert pair.mismatched == 3 and pair.mismatched_indices == [(511, 0), (100, 700), (3, 5)]
    assert [round(a - b, 4) for a, b, _ in pair.mismatched_values] == [-2.0, 1.0, 0.25]
    excesses = [e for _, _, e in pair.mismatched_values]
    assert excesses == sorted(excesses, reverse=True) and excesses[-1] > 1
    assert pair.max_abs == pytest.approx(2.0) and pair.max_abs_index == (511, 0)
    text = str(report)
    for index in ("[511, 0]: -1.5 vs 0.5", "[100, 700]: 1.5 vs 0.5", "[3, 5]: 0.75 vs 0.5"):
        assert index in text
    assert "(max abs at [511, 0])" in text


def test_bool_raise_and_assert_gradients():
    report = _three_wrong()
    assert report.verdict == "mismatch" and not report
    with pytest.raises(torch.GradientMismatch) as err:
        report.raise_for_mismatch()
    assert isinstance(err.value, AssertionError) and "[100, 700]" in str(err.value) and err.value.report is report
    w = torch.randn(3, requires_grad=True)
    assert torch.check((w * w).sum())
    assert torch.assert_gradients(lambda a: (a ** 2).sum(), w).verdict == "agree"
    with pytest.raises(AssertionError):
        torch.assert_gradients((w * w).sum(), names={"w": w}, claimed={"w": np.zeros(3)})
    skipped = check(CheckRequest(Graph((Leaf("x", np.ones(3)), OpNode("out", "sum", ("x",))), "out")))
    assert skipped.verdict == "skipped" and not skipped


def test_top_level_exports_the_readme_uses():
    assert torch.Tolerance(1e-4, 1e-5, 1e-6).rtol == 1e-4
    assert issubclass(torch.GradientMismatch, torch.CrossgradError) and torch.Report.__name__ == "Report"


def test_mismatched_elements_travel_over_the_wire():
    from crossgrad.client import Client
    from crossgrad.server.app import create_server

    torch.manual_seed(0)
    w = torch.randn(6, 4, requires_grad=True)
    claimed = np.full((6, 4), 0.5, np.float32)
    claimed[1, 2] += 1.0
    claimed[4, 0] -= 2.0
    running = create_server("127.0.0.1", 0)
    try:
        with Client(f"127.0.0.1:{running.port}") as client:
            remote = client.check((w * 0.5).sum(), names={"w": w}, claimed={"w": claimed})
    finally:
        running.stop(0)
    local = torch.check((w * 0.5).sum(), names={"w": w}, claimed={"w": claimed})
    for a, b in zip(remote.leaf("w").pairs, local.leaf("w").pairs):
        assert (a.mismatched_indices, a.max_abs_index) == (b.mismatched_indices, b.max_abs_index)
        np.testing.assert_allclose(np.array(a.mismatched_values).reshape(-1),
                                   np.array(b.mismatched_values).reshape(-1))
    assert remote.leaf("w").pairs[-1].mismatched_indices == [(4, 0), (1, 2)]


@pytest.mark.parametrize(("label", "build"), [
    ("(x + 1e8) - 1e8", lambda x: ((x + 1e8) - 1e8).sum()),
    ("a loss offset of 1e6", lambda x: torch.tanh(x).sum() + 1e6),
    ("tiny divisors", lambda x: (1 / (x * 1e-4)).sum()),
    ("within the step of a kink", lambda x: torch.relu(x * 2e-7 - 1e-7).sum()),
])
def test_ill_conditioned_finite_differences_are_unreliable_not_a_mismatch(label, build):
    x = torch.tensor([0.5, 1.5, 0.75], dtype=torch.float64, requires_grad=True)
    report = torch.check(build(x), names={"x": x})
    assert report.verdict in ("agree", "convention"), (label, str(report))
    fd_pairs = [p for p in report.leaf("x").pairs if "finite_difference" in p.witnesses]
    assert report.leaf("x").suspect is None
    if any(p.reason for p in fd_pairs):
        assert all("finite differences unreliable here" in p.reason for p in fd_pairs if p.reason)
    assert all(p.verdict in ("agree", "convention") for p in fd_pairs)


def test_an_ill_conditioned_graph_still_catches_a_real_bug(monkeypatch):
    sub = RULES["sub"]
    monkeypatch.setitem(RULES, "sub", Rule(sub.forward, lambda g, s, n: tuple(
        None if v is None else -v for v in sub.vjp(g, s, n))))  # both signs flipped
    x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    report = torch.check(((x + 1e8) - 1e8).sum(), names={"x": x})
    assert report.verdict == "mismatch" and report.leaf("x").suspect == "numeric"


def _tanh_with(monkeypatch, change):
    _planted(monkeypatch, "tanh", change)


@pytest.mark.parametrize(("dtype", "scale"), [(torch.float32, 1e-7), (torch.float64, 1e-14), (torch.float32, 1e-14)])
def test_a_sign_flip_is_never_noise_however_small_the_loss(monkeypatch, dtype, scale):
    _tanh_with(monkeypatch, lambda grads: tuple(-v for v in grads))
    x = torch.tensor([0.3, -0.8, 1.2, 0.5], dtype=dtype, requires_grad=True)
    report = torch.check((torch.tanh(x) * scale).sum(), names={"x": x})
    assert _numeric_blamed(report, "x")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_gradient_that_cancels_to_zero_is_unresolved_never_agree(dtype):
    """softmax(x).sum() is 1 for every x: its gradient is rounding noise in every witness, which
    nothing can confirm or refute (issue 20, item 3)."""
    import crossgrad.nn.functional as F

    torch.manual_seed(3)
    x = torch.randn(4, 6, dtype=dtype, requires_grad=True)
    report = torch.check(F.softmax(x, dim=1).sum(), names={"x": x})
    assert report.verdict == "unresolved" and not report
    leaf = report.leaf("x")
    assert leaf.verdict == "unresolved" and leaf.suspect is None
    pair = leaf.pairs[0]
    assert pair.mismatched == 0 and pair.unresolved > 0 and "rounding-noise level" in pair.reason
    assert any(note.startswith("unresolved: x") for note in report.notes)
    assert "UNRESOLVED" in str(report)


def test_noise_hides_a_bug_only_as_unresolved_and_a_weighted_loss_resolves_it(monkeypatch):
    """A sign-flipped softmax VJP cannot show on softmax(x).sum() (the true gradient is 0): the
    verdict says so instead of agreeing; weighting the loss as the note advises catches the bug."""
    import crossgrad.nn.functional as F

    _planted(monkeypatch, "softmax", lambda grads: tuple(-v for v in grads))
    torch.manual_seed(4)
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.check(F.softmax(x, dim=1).sum(), names={"x": x}).verdict == "unresolved"
    weights = torch.randn(3, 5, dtype=torch.float64)
    assert _numeric_blamed(torch.check((F.softmax(x, dim=1) * weights).sum(), names={"x": x}), "x")


def test_one_noise_level_leaf_leaves_the_others_resolved():
    import crossgrad.nn.functional as F

    torch.manual_seed(5)
    x = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    report = torch.check(F.softmax(x, dim=1).sum() + (w * w).sum(), names={"x": x, "w": w})
    assert (report.leaf("x").verdict, report.leaf("w").verdict, report.verdict) == ("unresolved", "agree", "unresolved")
    assert all(p.unresolved == 0 for p in report.leaf("w").pairs)


@pytest.mark.parametrize(("dtype", "caught", "missed"), [(torch.float32, 2e-4, 5e-5), (torch.float64, 2e-8, 5e-9)])
def test_the_detection_boundary_is_where_it_was(monkeypatch, dtype, caught, missed):
    """One element of tanh's VJP off by a relative eps: caught from ~1.1e-4 (float32) and ~1e-8
    (float64), as before the floor learned the graph's magnitudes (nothing loosened)."""
    original = RULES["tanh"]

    def verdict(eps):
        def off(g, s, n):
            (v,) = original.vjp(g, s, n)
            v = v.copy()
            v[1] *= 1 + eps
            return (v,)
        monkeypatch.setitem(RULES, "tanh", Rule(original.forward, off))
        x = torch.tensor([0.3, -0.8, 1.2, 0.5], dtype=dtype, requires_grad=True)
        return torch.check(torch.tanh(x).sum(), names={"x": x}).verdict

    assert verdict(caught) == "mismatch" and verdict(missed) == "agree"


def _directional_chain(n: int, depth: int = 4) -> tuple:
    x = torch.tensor(np.linspace(-1.0, 1.0, n), dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(depth):
        y = torch.tanh(y)
    return x, y.sum()  # odd in x over a symmetric grid: f is 0, its terms are not


def test_directional_differences_know_their_rounding_when_f_cancels_to_zero():
    """Directions over 2,000,000 elements where f sums to 0: the quotients' rounding comes from
    the terms, not from |f|, so their scatter is "unreliable here", not a mismatch (it was)."""
    x, loss = _directional_chain(2_000_000, 6)
    report = torch.check(loss, names={"x": x}, tier="off")
    assert report.finite_difference.startswith("directions") and report.verdict == "agree", str(report)


def test_directional_differences_still_catch_a_small_bug(monkeypatch):
    _planted(monkeypatch, "tanh", lambda grads: tuple(v * 1.001 for v in grads))  # 0.1% too large
    x, loss = _directional_chain(200_000)
    report = torch.check(loss, names={"x": x}, tier="off")
    pair = report.leaf("x").pairs[1]
    assert report.verdict == "mismatch" and pair.unit == "directions" and pair.mismatched >= 4, str(report)
