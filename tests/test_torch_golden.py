"""The engine against values real PyTorch printed (tests/golden/torch_golden.json, float32).

The golden file is produced by tests/golden/make_torch_golden.py in an environment with
torch; these tests need no torch. Tolerances are float32 rounding, not loose.
"""

from __future__ import annotations

import json
import pathlib

import crossgrad
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.numeric.dispatch import apply

from .catalogue_inputs import case_inputs, resolved_attrs, seed_mlp

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "torch_golden.json").read_text())
F32 = {"rtol": 2e-5, "atol": 2e-6}


def _engine_case(name: str, index: int):
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    attrs = resolved_attrs(spec, case)
    tensors = []
    for inp, arr in zip(spec.inputs, case_inputs(spec, case, seed=0)):
        if arr is None:
            tensors.append(None)
        elif arr.dtype == np.int64:
            tensors.append(crossgrad.from_numpy(arr))
        else:
            tensors.append(crossgrad.tensor(arr.astype(np.float32), requires_grad=inp.differentiable))
    return spec, tensors, apply(name, tuple(tensors), attrs)


@pytest.mark.parametrize("golden", GOLDEN["ops"], ids=lambda g: f"{g['op']}-{g['case']}")
def test_op_matches_pytorch(golden):
    spec, tensors, out = _engine_case(golden["op"], golden["case"])
    grad_fn = type(out.grad_fn).__name__ if out.grad_fn is not None else None
    assert grad_fn == golden["grad_fn"]
    assert out.dtype is crossgrad.float32
    np.testing.assert_allclose(out.detach().numpy(), np.array(golden["out"], np.float32), **F32)
    if golden["grads"]:
        cot = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(np.float32)
        out.backward(crossgrad.from_numpy(cot))
    for inp, t in zip(spec.inputs, tensors):
        if inp.name in golden["grads"]:
            assert t.grad.dtype is crossgrad.float32
            np.testing.assert_allclose(t.grad.numpy(), np.array(golden["grads"][inp.name]),
                                       err_msg=inp.name, **F32)


def test_seed_mlp_step_matches_pytorch_float32():
    """Flatten-Linear(784,512)-ReLU-Linear(512,512)-ReLU-Linear(512,10), CE, batch 64."""
    params, loss = seed_mlp(crossgrad, F)
    loss.backward()
    want = GOLDEN["mlp"]
    assert loss.item() == pytest.approx(want["loss"], rel=1e-6)
    for p, g in zip(params, want["grads"]):
        assert p.grad.dtype is crossgrad.float32
        grad = p.grad.numpy().astype(np.float64)
        assert grad.sum() == pytest.approx(g["sum"], rel=1e-4, abs=1e-6)
        assert np.abs(grad).sum() == pytest.approx(g["abs_sum"], rel=1e-5)
        np.testing.assert_allclose(grad.ravel()[:6], g["first"], rtol=1e-5, atol=1e-8)
