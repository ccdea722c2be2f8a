"""The part-B ops against real PyTorch's numbers (tests/golden/opsb.json, recorded by
tests/golden/make_golden_opsb.py with torch 2.13.0): grad_fn names, outputs and gradients in
float32 and float64. Torch-free."""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.numeric.dispatch import apply

from .catalogue_inputs import case_inputs, resolved_attrs
from .golden.opsb_composites import COMPOSITES, composite_inputs

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "opsb.json").read_text())
TOL = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-12, "atol": 1e-12}}


@pytest.mark.parametrize("golden", GOLDEN["cases"], ids=lambda g: f"{g['op']}-{g['case']}-{g['dtype']}")
def test_op_matches_pytorch(golden):
    spec = ops.CATALOGUE[golden["op"]]
    case = spec.cases[golden["case"]]
    dtype = np.dtype(golden["dtype"])
    arrays = case_inputs(spec, case, seed=0)
    tensors = [None if a is None else crossgrad.from_numpy(a) if a.dtype in (np.int64, np.bool_)
               else crossgrad.tensor(a.astype(dtype), requires_grad=inp.differentiable)
               for a, inp in zip(arrays, spec.input_specs(len(arrays)))]
    attrs = {**resolved_attrs(spec, case), **golden["attrs"]}
    if attrs.get("padding_idx") is not None:  # the engine stores it non-negative, as F.embedding passes it
        attrs["padding_idx"] %= tensors[1].shape[0]
    out = apply(golden["op"], tuple(tensors), attrs)
    assert type(out.grad_fn).__name__ == golden["grad_fn"]
    assert out.detach().numpy().dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), np.array(golden["out"]), **TOL[golden["dtype"]])
    cot = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(crossgrad.from_numpy(cot))
    assert golden["grads"], "every case has a differentiable input"
    for pos, grad in golden["grads"].items():
        got = tensors[int(pos)].grad
        assert got.numpy().dtype == dtype
        np.testing.assert_allclose(got.numpy(), np.array(grad), err_msg=f"input {pos}", **TOL[golden["dtype"]])


@pytest.mark.parametrize("golden", GOLDEN["composites"], ids=lambda g: f"{g['composite']}-{g['dtype']}")
def test_composite_matches_pytorch(golden):
    import crossgrad.nn.functional as F

    name, shapes, kwargs = COMPOSITES[golden["composite"]]
    dtype = np.dtype(golden["dtype"])
    tensors = [crossgrad.from_numpy(a) if a.dtype == np.bool_ else crossgrad.tensor(a.astype(dtype), requires_grad=True)
               for a in composite_inputs(shapes)]
    out = getattr(F, name)(*tensors, **kwargs)
    assert type(out.grad_fn).__name__ == golden["grad_fn"]  # sdpa: torch's fused kernel's name for 4-D
    tol = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}[golden["dtype"]]
    np.testing.assert_allclose(out.detach().numpy(), np.array(golden["out"]), **tol)
    out.backward(crossgrad.from_numpy(np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(dtype)))
    for pos, grad in golden["grads"].items():
        np.testing.assert_allclose(tensors[int(pos)].grad.numpy(), np.array(grad), err_msg=f"input {pos}", **tol)
