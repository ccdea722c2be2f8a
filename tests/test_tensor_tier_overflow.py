"""The tensor tier's exp rows past float64's exp overflow (x > ~709): logsumexp, cross_entropy,
softmax and log_softmax are computed shifted by the row max (a stop-gradient constant), so their
symbolic forward and gradient are finite and right, and the check agrees in float64 and float32
instead of blaming the numeric forward. A planted wrong gradient is still a mismatch."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

TARGETS = np.array([0, 2, 4])
WEIGHTS = np.arange(5.0)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _closed_forms(x: np.ndarray) -> dict:
    """d loss / d x of each case, in numpy with the shift (the same functions)."""
    big, shifted = _softmax(x * 1000), _softmax(x + 800)
    onehot = np.eye(5)[TARGETS]
    return {"logsumexp": 1000 * big,
            "cross_entropy": 1000 * (big - onehot) / len(TARGETS),
            "softmax": shifted * (WEIGHTS - (shifted * WEIGHTS).sum(axis=1, keepdims=True)),
            "log_softmax": 1000 * (WEIGHTS - big * WEIGHTS.sum())}


def _loss(case: str, x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(WEIGHTS).to(x.dtype)
    if case == "logsumexp":
        return torch.logsumexp(x * 1000, dim=1).sum()
    if case == "cross_entropy":
        return F.cross_entropy(x * 1e3, torch.tensor(TARGETS))
    if case == "softmax":
        return (F.softmax(x + 800, -1) * w).sum()
    return (F.log_softmax(x * 1000, -1) * w).sum()


def _x(dtype: torch.dtype) -> tuple[np.ndarray, torch.Tensor]:
    x = np.random.default_rng(3).standard_normal((3, 5))
    t = torch.tensor(x).to(dtype).requires_grad_()
    return t.detach().numpy().astype(np.float64), t


CASES = ["logsumexp", "cross_entropy", "softmax", "log_softmax"]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES)
def test_large_rows_agree_with_the_closed_form_gradient(case: str, dtype: torch.dtype) -> None:
    x, t = _x(dtype)
    report = torch.check(_loss(case, t), names={"x": t}, tier="tensor")
    assert report.tier == "tensor" and report.verdict == "agree", str(report)
    symbolic = report.leaf("x").grads["symbolic"]
    np.testing.assert_allclose(symbolic, _closed_forms(x)[case], rtol=1e-9, atol=1e-9)


def _planted(monkeypatch: pytest.MonkeyPatch, op: str) -> None:
    """``op``'s input gradient times 1.5."""
    rule = RULES[op]

    def wrong(*a, **k):  # noqa: ANN002, ANN003, ANN202
        grads = rule.vjp(*a, **k)
        return (grads[0] * 1.5, *grads[1:]) if isinstance(grads, tuple) else grads * 1.5
    monkeypatch.setitem(RULES, op, Rule(rule.forward, wrong))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES)
def test_a_planted_wrong_gradient_is_still_a_mismatch_blaming_numeric(monkeypatch: pytest.MonkeyPatch,
                                                                      case: str, dtype: torch.dtype) -> None:
    _planted(monkeypatch, case)
    x, t = _x(dtype)
    report = torch.check(_loss(case, t), names={"x": t}, tier="tensor")
    assert report.tier == "tensor" and report.verdict == "mismatch", str(report)
    assert report.leaf("x").suspect == "numeric", str(report)
    np.testing.assert_allclose(report.leaf("x").grads["symbolic"], _closed_forms(x)[case], rtol=1e-9, atol=1e-9)


def test_masked_entries_and_a_row_of_minus_inf_stay_exact() -> None:
    """-inf entries (a causal mask) give exactly 0 probability; an all -inf logsumexp row stays
    -inf rather than nan (the infinite max shifts by 0, as torch does)."""
    x = torch.tensor(np.random.default_rng(4).standard_normal((4, 4)) * 900, requires_grad=True)
    mask = torch.tensor(np.triu(np.ones((4, 4), bool), 1))
    probs = F.softmax(x.masked_fill(mask, float("-inf")), -1)
    report = torch.check((probs * torch.tensor(WEIGHTS[:4])).sum(), names={"x": x}, tier="tensor")
    assert report.tier == "tensor" and report.verdict == "agree", str(report)
    assert np.all(report.leaf("x").grads["symbolic"][np.triu(np.ones((4, 4), bool), 1)] == 0)

    from crossgrad.engine.symbolic.tensor_lowering_rows import lower_logsumexp
    from crossgrad.engine.symbolic.tensor_shift import ROW_MAX
    stages = lower_logsumexp([(2, 3)], {"dim": [1]}, [None])
    assert stages is not None and stages[0].detached
    top = ROW_MAX.forward(*[np.array([-np.inf, 1e300]), np.array([-np.inf, 2.0]), np.array([-np.inf, 3.0])])
    np.testing.assert_array_equal(top, [0.0, 1e300])


@pytest.mark.parametrize("case", ["logsumexp", "softmax"])
def test_order_two_on_large_rows_agrees(case: str) -> None:
    _, t = _x(torch.float64)
    report = torch.check(_loss(case, t), names={"x": t}, tier="tensor", order=2)
    assert report.tier == "tensor" and report.order == 2 and report.verdict == "agree", str(report)
