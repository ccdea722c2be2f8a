"""Every catalogue op, every case: shape rule, grad_fn name, dtype, and VJP vs finite differences."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.numeric.dispatch import apply
from crossgrad.engine.numeric.rules import RULES

from .catalogue_inputs import all_cases, case_inputs, resolved_attrs, rounds_to_float32

CASES = all_cases()
IDS = [f"{name}-{i}" for name, i in CASES]
# detach records nothing: no gradient flows through it (tested in test_semantics.py)
DIFF_CASES = [(n, i) for n, i in CASES if ops.CATALOGUE[n].grad_fn is not None and not rounds_to_float32(n, i)]
DIFF_IDS = [f"{name}-{i}" for name, i in DIFF_CASES]


def _run(name: str, index: int, dtype: type, seed: int = 0):
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    attrs = resolved_attrs(spec, case)
    arrays = case_inputs(spec, case, seed)
    tensors = []
    for inp, arr in zip(spec.input_specs(len(case.shapes)), arrays):
        if arr is None:
            tensors.append(None)
            continue
        arr = arr if arr.dtype in (np.int64, np.bool_) else arr.astype(dtype)
        t = crossgrad.from_numpy(arr.copy())
        tensors.append(t.requires_grad_() if inp.differentiable else t)
    return spec, case, attrs, arrays, tensors, apply(name, tuple(tensors), attrs)


def _loss_fn(name: str, attrs: dict, arrays: list, cotangent: np.ndarray):
    """f(inputs) = <forward(inputs), cotangent>, evaluated with the op's forward in float64."""

    def f(xs: list) -> float:
        out, _ = RULES[name].forward(tuple(xs), attrs)
        return float(np.sum(np.asarray(out) * cotangent))

    return f


def test_catalogue_and_rules_cover_each_other():
    assert set(ops.CATALOGUE) == set(RULES)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_shape_rule_matches_forward(name, index):
    spec, case, attrs, arrays, tensors, out = _run(name, index, np.float64)
    assert tuple(out.shape) == spec.out_shape(case.shapes, attrs)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_grad_fn_name_follows_spec(name, index):
    spec, case, attrs, _, _, out = _run(name, index, np.float64)
    expected = spec.grad_fn_name(case.shapes, attrs)
    if expected is None:
        assert out.grad_fn is None and not out.requires_grad
    else:
        assert type(out.grad_fn).__name__ == expected == out.grad_fn.name()
        assert repr(out.grad_fn).startswith(f"<{expected} object at 0x")


@pytest.mark.parametrize(("name", "index"), [c for c in CASES if c[0] != "to_dtype"])  # it changes the dtype
def test_float32_stays_float32(name, index):
    spec, case, attrs, _, tensors, out = _run(name, index, np.float32)
    assert out.dtype is crossgrad.float32
    if out.requires_grad:
        out.backward(crossgrad.ones_like(out))
        for t in tensors:
            if t is not None and t.requires_grad:
                assert t.grad.dtype is crossgrad.float32


def _numeric_grads(name, index, seed):
    spec, case, attrs, arrays, tensors, out = _run(name, index, np.float64, seed)
    cotangent = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))
    if out.requires_grad:
        out.backward(crossgrad.from_numpy(cotangent))
    return spec, attrs, arrays, tensors, cotangent


@pytest.mark.parametrize(("name", "index"), DIFF_CASES, ids=DIFF_IDS)
def test_vjp_matches_central_differences_per_element(name, index):
    spec, attrs, arrays, tensors, cotangent = _numeric_grads(name, index, seed=3)
    f = _loss_fn(name, attrs, arrays, cotangent)
    h = 1e-6
    for i, (inp, t) in enumerate(zip(spec.input_specs(len(arrays)), tensors)):
        if t is None or not inp.differentiable or not t.requires_grad:
            continue
        fd = np.zeros_like(arrays[i])
        for idx in np.ndindex(arrays[i].shape):
            plus = [a if a is None else a.copy() for a in arrays]
            minus = [a if a is None else a.copy() for a in arrays]
            plus[i][idx] += h
            minus[i][idx] -= h
            fd[idx] = (f(plus) - f(minus)) / (2 * h)
        np.testing.assert_allclose(t.grad.numpy(), fd, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{name} input {inp.name}")


@pytest.mark.parametrize(("name", "index"), DIFF_CASES, ids=DIFF_IDS)
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_vjp_matches_central_differences_along_random_directions(name, index, seed):
    spec, attrs, arrays, tensors, cotangent = _numeric_grads(name, index, seed)
    f = _loss_fn(name, attrs, arrays, cotangent)
    rng = np.random.default_rng(seed + 100)
    diff = [i for i, (inp, t) in enumerate(zip(spec.input_specs(len(arrays)), tensors))
            if t is not None and inp.differentiable]
    directions = {i: rng.standard_normal(arrays[i].shape) for i in diff}
    h = 1e-6
    plus = [a if i not in directions else a + h * directions[i] for i, a in enumerate(arrays)]
    minus = [a if i not in directions else a - h * directions[i] for i, a in enumerate(arrays)]
    fd = (f(plus) - f(minus)) / (2 * h)
    analytic = sum(float(np.sum(tensors[i].grad.numpy() * directions[i])) for i in diff)
    assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-7)
