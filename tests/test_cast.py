"""to_dtype, the catalogue's float32 <-> float64 conversion: against real PyTorch
(tests/golden/higher_order_cast.json, from tests/golden/make_golden_cast.py), through a check
(float32 tolerances for a float64 leaf whose gradient passes a float32 node), under create_graph,
and with a planted VJP bug."""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric import batched, dispatch, rules
from crossgrad.engine.numeric.ruletools import Rule

from tests.higher_cases import case_data, cotangent, directions

GOLDEN = {c["case"]: c for c in json.loads(
    (pathlib.Path(__file__).parent / "golden" / "higher_order_cast.json").read_text())["ops"]}
CASES = sorted(GOLDEN)


def _apply(x: np.ndarray, attrs: dict, dtype: type) -> tuple[crossgrad.Tensor, crossgrad.Tensor]:
    t = crossgrad.tensor(x.astype(dtype), requires_grad=True)
    return t, dispatch.apply("to_dtype", (t,), attrs)


@pytest.mark.parametrize("index", CASES)
@pytest.mark.parametrize("source", [np.float64, np.float32])
def test_output_gradient_and_dtypes_match_pytorch(index: int, source: type) -> None:
    arrays, attrs, _ = case_data("to_dtype", index)
    want = GOLDEN[index]["first"] if source is np.float64 else GOLDEN[index]["float32_input"]
    x, y = _apply(arrays[0], attrs, source)
    assert type(y.grad_fn).__name__ == GOLDEN[index]["first"]["grad_fn"] == "ToCopyBackward0"
    assert y.dtype.name == attrs["dtype"]
    c = cotangent(tuple(y.shape))
    (y * crossgrad.tensor(c, dtype=crossgrad.float64)).sum().backward()
    grad = want["grads"][0] if source is np.float64 else want["grad"]
    assert x.grad.dtype.np == np.dtype(source)  # the gradient comes back in the input's dtype
    np.testing.assert_array_equal(y.detach().numpy().astype(np.float64), np.array(want["out"]))
    np.testing.assert_array_equal(x.grad.numpy().astype(np.float64), np.array(grad))


@pytest.mark.parametrize("index", CASES)
def test_jvp_through_the_cotangent_matches_pytorch(index: int) -> None:
    """Differentiating the VJP again (create_graph) records the cast back, as torch does."""
    arrays, attrs, diff = case_data("to_dtype", index)
    x, y = _apply(arrays[0], attrs, np.float64)
    w = crossgrad.tensor(cotangent(tuple(y.shape)), dtype=crossgrad.float64, requires_grad=True)
    (g,) = crossgrad.autograd.grad((y * w).sum(), [x], create_graph=True)
    assert g.dtype is crossgrad.float64 and g.requires_grad
    (v,) = directions(arrays, diff)
    (jv,) = crossgrad.autograd.grad((g * crossgrad.tensor(v, dtype=crossgrad.float64)).sum(), [w])
    np.testing.assert_allclose(jv.numpy(), GOLDEN[index]["jvp"], rtol=1e-12, atol=0)


def _mixed(x: np.ndarray) -> Graph:
    """tanh(float32(x)) * 3, x float64: the gradient is rounded to float32 on its way back."""
    return Graph((Leaf("x", x, True), OpNode("x32", "to_dtype", ("x",), {"dtype": "float32"}),
                  OpNode("t", "tanh", ("x32",)), Leaf("k", np.float32(3.0), False),
                  OpNode("out", "mul", ("t", "k"))), "out")


def test_a_float64_leaf_cast_to_float32_is_judged_at_float32_precision() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    plan = validate(_mixed(x))
    assert [plan.dtypes[plan.index[n]] for n in ("x", "x32", "out")] == ["float64", "float32", "float32"]
    report = check(CheckRequest(_mixed(x), np.ones((3, 4))))
    assert report.verdict == "agree", str(report)
    leaf = report.leaves[0]
    assert leaf.dtype == "float64"
    np.testing.assert_allclose(leaf.grads["symbolic"], 3 * (1 - np.tanh(x) ** 2), rtol=1e-12)
    np.testing.assert_allclose(leaf.grads["finite_difference"], leaf.grads["symbolic"], rtol=1e-6)


def test_finite_differences_pass_the_conversion_through_unrounded() -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    plan = validate(_mixed(x))
    stack = x + 1e-7 * np.arange(1, 4)[:, None, None]
    got = batched.Batched(plan, {0: x}).outputs({0: stack})
    np.testing.assert_allclose(got, 3 * np.tanh(stack), rtol=1e-15)


def test_a_vjp_that_does_not_cast_back_scaled_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted: the cast's VJP doubles the gradient; the check names to_dtype's node."""
    good = rules.RULES["to_dtype"]
    monkeypatch.setitem(rules.RULES, "to_dtype", Rule(good.forward, lambda g, s, n: (2 * good.vjp(g, s, n)[0],)))
    monkeypatch.setattr(dispatch, "RULES", rules.RULES)
    report = check(CheckRequest(_mixed(np.random.default_rng(2).standard_normal((3, 4))), np.ones((3, 4))))
    assert report.verdict == "mismatch"
    assert report.leaves[0].suspect == "numeric"
    assert "x32" in str(report) and "to_dtype" in str(report)


def test_a_second_backward_through_a_cast_alone_is_allowed_as_in_pytorch() -> None:
    """ToCopyBackward0 saves no tensor (only the input's dtype), so torch lets a second backward
    through it run; a node that saved a tensor still refuses (torch's message)."""
    x = crossgrad.ones(3, requires_grad=True)
    y = x.double().sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    z = (x.double() * x.double()).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()
