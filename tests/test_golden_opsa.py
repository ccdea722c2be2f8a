"""Issue 11 part-A ops against values real PyTorch 2.13 recorded (tests/golden/opsa.json, made
by tests/golden/make_golden_opsa.py): forward values, grad_fn names and gradients, float32 and
float64, every catalogue case. Needs no torch."""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.numeric.dispatch import apply

from .catalogue_inputs import case_inputs, resolved_attrs

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "opsa.json").read_text())
TOL = {"float32": {"rtol": 3e-6, "atol": 3e-7}, "float64": {"rtol": 1e-12, "atol": 1e-13}}
NP = {"float32": np.float32, "float64": np.float64}


def _engine(name: str, index: int, dtype: str):
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    tensors = []
    for inp, arr in zip(spec.inputs, case_inputs(spec, case, seed=0)):
        if arr.dtype.kind in "bi":
            tensors.append(crossgrad.from_numpy(arr))
        else:
            tensors.append(crossgrad.tensor(arr.astype(NP[dtype]), requires_grad=inp.differentiable))
    return tensors, apply(name, tuple(tensors), resolved_attrs(spec, case))


def test_golden_covers_every_case():
    recorded = {(g["op"], g["case"], g["dtype"]) for g in GOLDEN["ops"]}
    names = [s.name for s in ops.ELEMENTWISE_SPECS]  # the reductions have tests/golden/reductions.json
    wanted = {(n, i, d) for n in names for i in range(len(ops.CATALOGUE[n].cases)) for d in NP}
    assert recorded == wanted and GOLDEN["torch"].startswith("2.13.0")


@pytest.mark.parametrize("golden", GOLDEN["ops"], ids=lambda g: f"{g['op']}-{g['case']}-{g['dtype']}")
def test_op_matches_pytorch(golden):
    dtype = golden["dtype"]
    tensors, out = _engine(golden["op"], golden["case"], dtype)
    assert type(out.grad_fn).__name__ == golden["grad_fn"]
    assert out.dtype.name == dtype
    np.testing.assert_allclose(out.detach().numpy(), np.array(golden["out"], NP[dtype]), **TOL[dtype])
    cot = np.random.default_rng(GOLDEN["cotangent_seed"]).standard_normal(tuple(out.shape)).astype(NP[dtype])
    out.backward(crossgrad.from_numpy(cot))
    for t, want in zip(tensors, golden["grads"]):
        if want is None:
            assert not t.requires_grad
            continue
        assert t.grad.dtype.name == dtype
        np.testing.assert_allclose(t.grad.numpy(), np.array(want, NP[dtype]), **TOL[dtype])


@pytest.mark.parametrize("kink", GOLDEN["kinks"], ids=lambda k: f"{k['op']}-{k['attrs']}")
def test_kink_convention_matches_pytorch(kink):
    """On its kink each op's gradient is PyTorch's: clamp passes at its bounds, hardtanh does not,
    leaky_relu'(0) = slope, elu'(0) = alpha."""
    x = crossgrad.tensor(kink["input"], dtype=crossgrad.float64, requires_grad=True)
    spec = ops.CATALOGUE[kink["op"]]
    apply(kink["op"], (x,), ops.resolve_attrs(spec, kink["attrs"])).sum().backward()
    assert x.grad.tolist() == pytest.approx(kink["grad"], rel=1e-15)
    assert kink["op"] in ("leaky_relu", "elu") or "bound" in spec.kink
