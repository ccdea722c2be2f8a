"""The tensor tier's cross_entropy with class weights and label smoothing is shifted by the row max
(engine/symbolic/tensor_cross_entropy.py), as the plain case (tests/test_tensor_tier_overflow.py):
logits ~1e3 were inf/nan in the symbolic forward and a false mismatch on main. The symbolic
gradient equals the closed form, the check agrees in float32 and float64, and a planted wrong
gradient is still a mismatch blaming numeric."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

TARGETS = np.array([0, 2, 3, 1, 2])
CLASS_WEIGHTS = np.array([0.5, 1.0, 2.0, 1.5])
UNITS = np.arange(1.0, 6.0)  # weights of the per-sample losses for reduction 'none'
OPTIONS = {
    "weight": dict(weight=True, label_smoothing=0.0, ignore_index=-100, reduction="mean"),
    "smoothing": dict(weight=False, label_smoothing=0.1, ignore_index=-100, reduction="mean"),
    "both": dict(weight=True, label_smoothing=0.1, ignore_index=-100, reduction="mean"),
    "both, ignore 2": dict(weight=True, label_smoothing=0.2, ignore_index=2, reduction="mean"),
    "smoothing, sum": dict(weight=False, label_smoothing=0.1, ignore_index=-100, reduction="sum"),
    "weight, none": dict(weight=True, label_smoothing=0.0, ignore_index=-100, reduction="none"),
}


def _logits(dtype: type) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal((5, 4)) * 1000).astype(dtype)


def _graph(x: np.ndarray, o: dict) -> Graph:
    attrs = {k: o[k] for k in ("label_smoothing", "ignore_index", "reduction")}
    inputs = ("x", "t", "cw") if o["weight"] else ("x", "t")
    nodes = [Leaf("x", x, True), Leaf("t", TARGETS, False), Leaf("cw", CLASS_WEIGHTS.astype(x.dtype), False),
             Leaf("u", UNITS.astype(x.dtype), False), OpNode("l", "cross_entropy", inputs, attrs)]
    if o["reduction"] == "none":
        nodes += [OpNode("q", "mul", ("l", "u")), OpNode("s", "sum", ("q",))]
    return Graph(tuple(nodes), nodes[-1].name)


def _closed_form(x: np.ndarray, o: dict) -> np.ndarray:
    """dL/dx_i = up_i [s_i p_i - (1 - e) w_t onehot(t) - (e / C) valid_i w], s_i = (1 - e) w_t + (e / C) W."""
    x = x.astype(np.float64)
    classes, eps = x.shape[1], o["label_smoothing"]
    w = CLASS_WEIGHTS if o["weight"] else np.ones(classes)
    valid = np.not_equal(TARGETS, o["ignore_index"])
    safe = np.where(valid, TARGETS, 0)
    w_t = np.where(valid, w[safe], 0.0)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    up = {"mean": np.full(5, 1 / w_t.sum()), "sum": np.ones(5), "none": UNITS}[o["reduction"]]
    s = (1 - eps) * w_t + eps / classes * w.sum() * valid
    grad = s[:, None] * p - (eps / classes) * valid[:, None] * w[None, :]
    grad[np.arange(5), safe] -= (1 - eps) * w_t
    return up[:, None] * grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_large_logits_agree_with_the_closed_form(name: str, dtype: type) -> None:
    x = _logits(dtype)
    report = check(CheckRequest(_graph(x, OPTIONS[name]), tier="tensor"))
    assert report.tier == "tensor" and report.verdict == "agree", str(report)
    want = _closed_form(x, OPTIONS[name])
    np.testing.assert_allclose(report.leaves[0].grads["symbolic"], want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_planted_wrong_gradient_is_still_caught(dtype: type) -> None:
    """The numeric cross_entropy VJP 1% off at one element: mismatch, numeric the suspect."""
    rule = RULES["cross_entropy"]

    def vjp(g: np.ndarray, s: object, n: object) -> tuple:
        gx, *rest = rule.vjp(g, s, n)
        gx = np.array(gx, copy=True)
        gx.flat[int(np.abs(gx).argmax())] *= 1.01
        return (gx, *rest)

    RULES["cross_entropy"] = Rule(rule.forward, vjp)
    try:
        report = check(CheckRequest(_graph(_logits(dtype), OPTIONS["both"]), tier="tensor"))
    finally:
        RULES["cross_entropy"] = rule
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric"


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_torch_gradient_agrees(name: str) -> None:
    torch = pytest.importorskip("torch")
    o = OPTIONS[name]
    x = _logits(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(
        xt, torch.tensor(TARGETS), torch.tensor(CLASS_WEIGHTS, dtype=torch.float32) if o["weight"] else None,
        ignore_index=o["ignore_index"], label_smoothing=o["label_smoothing"], reduction=o["reduction"])
    if o["reduction"] == "none":
        loss = (loss * torch.tensor(UNITS, dtype=torch.float32)).sum()
    loss.backward()
    report = check(CheckRequest(_graph(x, o), tier="tensor", claimed={"x": xt.grad.numpy()}))
    assert report.verdict == "agree", str(report)
