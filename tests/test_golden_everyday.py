"""cumprod, atan2, hardswish, hardsigmoid and mish against real PyTorch's numbers for every
catalogue case (tests/golden/higher_order_everyday.json, recorded by make_golden_everyday.py with
torch 2.13.0): grad_fn name, output and gradients in float32 and float64. Torch-free. (The HVP,
Hessian and JVP entries of the same file are checked by test_higher_order*.py.)"""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.numeric.dispatch import apply

from tests.higher_cases import case_data, cotangent

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "higher_order_everyday.json").read_text())["ops"]
TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
# torch 2.13's float64 hardsigmoid backward multiplies by 1/6 rounded to float32 (0.16666667163...);
# crossgrad's is 1/6 (test_opsb2_bridge shows gradcheck catching torch's)
LOOSE = {"hardsigmoid": {"rtol": 1e-7, "atol": 1e-9}}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: f"{g['op']}-{g['case']}")
def test_catalogue_case_matches_pytorch(golden, dtype):
    want = golden["first" if dtype == np.float64 else "first32"]
    arrays, attrs, diff = case_data(golden["op"], golden["case"])
    ts = [crossgrad.tensor(a.astype(dtype), requires_grad=i in diff) for i, a in enumerate(arrays)]
    y = apply(golden["op"], tuple(ts), attrs)
    assert type(y.grad_fn).__name__ == want["grad_fn"]
    tol = LOOSE.get(golden["op"], TOL[dtype]) if dtype == np.float64 else TOL[dtype]
    np.testing.assert_allclose(y.detach().numpy(), want["out"], **TOL[dtype])
    grads = crossgrad.autograd.grad((y * crossgrad.tensor(cotangent(tuple(y.shape)).astype(dtype))).sum(),
                                    [ts[i] for i in diff])
    for g, w in zip(grads, want["grads"]):
        np.testing.assert_allclose(g.numpy(), w, **tol)


def test_every_everyday_case_is_recorded():
    from crossgrad.engine import ops

    wanted = {(n, i) for n in ("cumprod", "atan2", "hardswish", "hardsigmoid", "mish")
              for i in range(len(ops.CATALOGUE[n].cases))}
    assert {(g["op"], g["case"]) for g in GOLDEN} == wanted
