"""Second order through the CNN ops against torch's double backward (tests/golden/
higher_order_cnn.json, tests/golden/make_higher_order_cnn_golden.py) and finite differences
of the engine's own first-order gradient."""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.numeric import dispatch

from tests.higher_cases import as_tensor, case_data, cotangent, directions, hessian_vector
from tests.higher_cnn_cases import CNN_OPS, composite_hvp, conv_net_penalty, conv_net_total, squared, third_order

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "higher_order_cnn.json").read_text())
BY_CASE = {(c["op"], c["case"]): c for c in GOLDEN["ops"]}
CASES = [(n, i) for n in CNN_OPS for i in range(len(ops.CATALOGUE[n].cases))]


def _call(name: str):
    return lambda ts, attrs: dispatch.apply(name, tuple(ts), attrs)


def _compare(got: dict, want: dict) -> None:
    for h, t in zip(got["hvp"], want["hvp"], strict=True):
        np.testing.assert_allclose(h, t, rtol=1e-9, atol=1e-10)
    if "hessian" in want:
        np.testing.assert_allclose(got["hessian"], want["hessian"], rtol=1e-9, atol=1e-10)


def _fd_hvp(call, arrays: list, attrs: dict, diff: list[int], vs: list, eps: float = 1e-5) -> list:
    """Central differences of the engine's first-order gradient of sum(c * call(x)) along vs."""
    def grads(sign: float) -> list:
        moved = [a + sign * eps * vs[diff.index(i)] if i in diff else a for i, a in enumerate(arrays)]
        ts = [as_tensor(crossgrad, a, i in diff) for i, a in enumerate(moved)]
        y = call(ts, attrs)
        loss = (y * crossgrad.tensor(cotangent(tuple(y.shape)), dtype=crossgrad.float64)).sum()
        return [g.numpy() for g in crossgrad.autograd.grad(loss, [ts[i] for i in diff])]

    return [(p - m) / (2 * eps) for p, m in zip(grads(1.0), grads(-1.0))]


@pytest.mark.parametrize(("name", "index"), CASES)
def test_squared_output_hvp_matches_torch_and_finite_differences(name: str, index: int) -> None:
    """sum(c * op(x)^2): the op's VJP gets a live gradient, so its own derivative is checked."""
    arrays, attrs, diff = case_data(name, index)
    vs = directions(arrays, diff)
    call = squared(_call(name))
    got = hessian_vector(crossgrad, call, arrays, attrs, diff, vs, full=True)
    _compare(got, BY_CASE[(name, index)]["squared"])
    for h, f in zip(got["hvp"], _fd_hvp(call, arrays, attrs, diff, vs)):
        np.testing.assert_allclose(h, f, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "index"), CASES)
def test_third_derivative_matches_torch_and_differences_of_the_hvp(name: str, index: int) -> None:
    """Third order: d/dx D^2 L[v, v] of sum(c * op(x)^2) by three nested backward passes, against
    torch (where torch computes it) and, along a random u, central differences of D^2 L[v, v]."""
    arrays, attrs, diff = case_data(name, index)
    vs = directions(arrays, diff)
    call = squared(_call(name))
    got = third_order(crossgrad, call, arrays, attrs, diff, vs)
    want = BY_CASE[(name, index)]["third"]
    if "torch_error" not in want:
        for h, t in zip(got, want, strict=True):
            np.testing.assert_allclose(h, t, rtol=1e-9, atol=1e-10)
    us = [np.random.default_rng(5).standard_normal(v.shape) for v in vs]

    def curvature(sign: float, eps: float = 1e-5) -> float:
        moved = [a + sign * eps * us[diff.index(i)] if i in diff else a for i, a in enumerate(arrays)]
        hvp = hessian_vector(crossgrad, call, moved, attrs, diff, vs, full=False)["hvp"]
        return sum(float(np.vdot(h, v)) for h, v in zip(hvp, vs))

    along = sum(float(np.vdot(t, u)) for t, u in zip(got, us))
    assert along == pytest.approx((curvature(1.0) - curvature(-1.0)) / 2e-5, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("name", "index"), CASES)
def test_linear_output_hvp_and_hessian_match_torch(name: str, index: int) -> None:
    arrays, attrs, diff = case_data(name, index)
    got = hessian_vector(crossgrad, _call(name), arrays, attrs, diff, directions(arrays, diff), full=True)
    _compare(got, BY_CASE[(name, index)]["linear"])


@pytest.mark.parametrize("name", ["group_norm", "instance_norm"])
def test_norm_composites_second_order_match_torch(name: str) -> None:
    _compare(composite_hvp(crossgrad, name), GOLDEN["composites"][name])


def test_conv_net_gradient_penalty_matches_torch_double_backward() -> None:
    got, want = conv_net_penalty(crossgrad), GOLDEN["conv_net_penalty"]
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-12)
    assert got["names"] == want["names"]
    for name, g, w in zip(want["names"], got["grads"], want["grads"]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize(("stage", "tier"), [("avg", "exact"), ("max", "tensor"), ("reflect", "exact"),
                                            ("bilinear", "tensor"), ("adaptive_max", "tensor")])
def test_conv_net_gradient_penalty_graph_is_checked_three_ways(stage: str, tier: str) -> None:
    """The recorded backward (conv weight gradients as convolutions, pooling's transposed
    convolutions, pad's folds, resampling matmuls, batch_norm's statistics) exports and agrees
    with SymPy (both tiers) and finite differences; the conv bias before a training batch_norm
    has an exactly zero gradient: unresolved."""
    total, leaves = conv_net_total(crossgrad, size=4, stage=stage)
    report = crossgrad.check(total, names=leaves, tier=tier)
    verdicts = {leaf.name: leaf.verdict for leaf in report.leaves}
    assert verdicts.pop("conv.bias") == "unresolved"
    assert set(verdicts.values()) == {"agree"} and len(verdicts) == 6
    assert f"symbolic tier: {tier}" in str(report)


def test_golden_holds_real_second_derivatives() -> None:
    """The recorded values are not all zero: the squared loss has a nonzero Hessian per case."""
    assert len(BY_CASE) == len(CASES)
    for case in GOLDEN["ops"]:
        assert any(np.any(np.asarray(h) != 0) for h in case["squared"]["hvp"]), (case["op"], case["case"])


def _detached(t):
    return getattr(t, "_data", t)  # under create_graph a saved input is a live tensor: use its values


def _plant_detached(monkeypatch, op: str, which: tuple[int, ...]) -> None:
    """``op``'s VJP with the saved values at positions ``which`` detached: right to first order only."""
    from crossgrad.engine.numeric.rules import RULES
    from crossgrad.engine.numeric.ruletools import Rule

    rule = RULES[op]

    def vjp(g, saved, node):
        return rule.vjp(g, tuple(_detached(s) if i in which else s for i, s in enumerate(saved)), node)
    monkeypatch.setitem(RULES, op, Rule(rule.forward, vjp))


def _bn_loss():
    rng = np.random.default_rng(0)
    x = crossgrad.tensor(rng.standard_normal((3, 2, 2, 2)), dtype=crossgrad.float64, requires_grad=True)
    w = crossgrad.tensor(1 + 0.2 * rng.standard_normal(2), dtype=crossgrad.float64, requires_grad=True)
    c = crossgrad.tensor(rng.standard_normal((3, 2, 2, 2)), dtype=crossgrad.float64)
    y = crossgrad.nn.functional.batch_norm(x, None, None, w, None, training=True)
    return (c * y * y).sum()


def _conv_loss():
    rng = np.random.default_rng(1)
    x = crossgrad.tensor(rng.standard_normal((1, 2, 4, 4)), dtype=crossgrad.float64, requires_grad=True)
    w = crossgrad.tensor(rng.standard_normal((2, 2, 2, 2)), dtype=crossgrad.float64, requires_grad=True)
    c = crossgrad.tensor(rng.standard_normal((1, 2, 3, 3)), dtype=crossgrad.float64)
    y = crossgrad.nn.functional.conv2d(x, w)
    return (c * y * y).sum()


@pytest.mark.parametrize(("op", "which", "build"), [("batch_norm", (0,), _bn_loss), ("conv2d", (0, 1), _conv_loss)],
                         ids=["batch_norm statistics detached", "conv2d saved input and weight detached"])
def test_planted_second_order_bug_is_caught_at_order_2_only(monkeypatch, op, which, build) -> None:
    assert crossgrad.check(build(), order=2).verdict == "agree"
    _plant_detached(monkeypatch, op, which)
    assert crossgrad.check(build(), order=1).verdict == "agree"
    report = crossgrad.check(build(), order=2)
    assert report.verdict == "mismatch"


def test_batch_norm_third_order_golden_is_torchs_composition_not_its_fused_op() -> None:
    """torch's fused batch_norm (training) is wrong from third order on (pytorch/pytorch#186256):
    the golden third derivative comes from torch's primitives, and differs from the fused one."""
    cases = [c for c in GOLDEN["ops"] if "third_source" in c]
    assert {c["op"] for c in cases} == {"batch_norm"} and len(cases) >= 2
    for case in cases:
        fused, composed = case["third_native_torch"], case["third"]
        assert not np.allclose(np.ravel(fused[0]), np.ravel(composed[0]), rtol=1e-3)


@pytest.mark.parametrize(("name", "index"), [(n, i) for n in ("flip", "cumsum", "cat", "stack", "tril", "triu")
                                             for i in range(len(ops.CATALOGUE[n].cases))])
def test_shape_op_vjps_record_under_a_live_gradient(name: str, index: int) -> None:
    """flip and cat (pad's adjoint uses them), cumsum, stack, tril and triu VJPs call np.flip /
    np.split / np.cumsum / np.take / np.tril / np.triu: recorded as catalogue ops when the
    incoming gradient depends on the inputs (the linear catalogue weighting does not show it)."""
    arrays, attrs, diff = case_data(name, index)
    vs = directions(arrays, diff)
    call = squared(_call(name))
    got = hessian_vector(crossgrad, call, arrays, attrs, diff, vs, full=False)
    for h, f in zip(got["hvp"], _fd_hvp(call, arrays, attrs, diff, vs), strict=True):
        np.testing.assert_allclose(h, f, rtol=1e-5, atol=1e-6)
        assert np.any(np.asarray(h) != 0)


@pytest.mark.parametrize(("mode", "pad", "shape"), [
    ("reflect", (1, 1, 0, 0), (1, 2, 2, 2)),  # the two borders fold onto the same element: placed by padding
    ("reflect", (2, 1, 1, 2), (1, 1, 4, 5)),  # separate slabs: concatenated
    ("replicate", (2, 3, 1, 0), (2, 1, 3, 1)),  # a width-1 dim takes both borders
    ("replicate", (1, 2, 2, 1), (1, 2, 3, 4)),
    ("constant", (-1, 2, 1, -1), (1, 1, 3, 4)),
])
def test_pad_adjoint_under_a_live_gradient(mode: str, pad: tuple, shape: tuple) -> None:
    """pad's VJP (a crop with the borders folded back) is recorded for each fold layout."""
    arrays = [np.random.default_rng(2).standard_normal(shape)]
    attrs = ops.resolve_attrs(ops.CATALOGUE["pad"], {"pad": pad, "mode": mode})
    vs = directions(arrays, [0])
    call = squared(_call("pad"))
    got = hessian_vector(crossgrad, call, arrays, attrs, [0], vs, full=False)["hvp"][0]
    np.testing.assert_allclose(got, _fd_hvp(call, arrays, attrs, [0], vs)[0], rtol=1e-5, atol=1e-6)
    assert third_order(crossgrad, call, arrays, attrs, [0], vs) == [np.zeros(shape).tolist()]  # quadratic
