"""The CNN ops and models against real PyTorch's recorded values (tests/golden/cnn.json, written
by tests/golden/make_golden_cnn.py with torch 2.13.0); no torch needed here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.numeric.dispatch import apply

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "golden" / "cnn.json").read_text())
sys.path.insert(0, str(ROOT / "examples" / "models"))

import lenet  # noqa: E402
import resnet_block  # noqa: E402


def _record_id(r: dict) -> str:
    return f"{r['op']}-{r['case']}"


@pytest.mark.parametrize("record", GOLDEN["ops"], ids=_record_id)
def test_op_matches_torch(record):
    spec = ops.CATALOGUE[record["op"]]
    case = spec.cases[record["case"]]
    attrs = ops.resolve_attrs(spec, case.attrs)
    xs = [None if v is None else crossgrad.tensor(np.asarray(v, np.float64), requires_grad=inp.differentiable)
          for v, inp in zip(record["inputs"], spec.inputs)]
    out = apply(record["op"], tuple(xs), attrs)
    np.testing.assert_allclose(out.detach().numpy(), np.asarray(record["output"]), rtol=1e-10, atol=1e-12)
    assert out.grad_fn.name() == record["grad_fn"]
    (out * crossgrad.tensor(np.asarray(record["cotangent"]))).sum().backward()
    for x, want in zip(xs, record["grads"]):
        if want is not None:
            np.testing.assert_allclose(x.grad.numpy(), np.asarray(want), rtol=1e-10, atol=1e-12)


def _buffers(model) -> dict:
    out = {}
    for name, module in model.named_modules():
        for bname, b in getattr(module, "named_buffers", lambda: [])():
            out[f"{name}.{bname}"] = np.asarray(b.tolist(), np.float64).reshape(-1)
    return out


MODELS = [("lenet", lenet, {"batch": 8}), ("resnet_block", resnet_block, {"batch": 4, "channels": 8, "size": 6})]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "module", "kw"), MODELS, ids=[m[0] for m in MODELS])
def test_model_after_three_steps_matches_torch(name, module, kw, dtype):
    want = GOLDEN["models"][name][dtype]
    rtol = 1e-4 if dtype == "float32" else 1e-9
    model, losses = module.train(crossgrad, steps=3, dtype=getattr(crossgrad, dtype), **kw)
    np.testing.assert_allclose(losses, want["losses"], rtol=rtol)
    params = dict(model.named_parameters())
    assert list(params) == list(want["params"])  # torch's names, in torch's order
    for pname, rec in want["params"].items():
        p = params[pname].detach().numpy().astype(np.float64)
        assert list(p.shape) == rec["shape"]
        np.testing.assert_allclose(p.reshape(-1)[:8], rec["first"], rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose((p ** 2).sum(), rec["sumsq"], rtol=rtol)
    buffers = _buffers(model)
    assert list(buffers) == list(want["buffers"])
    for bname, values in want["buffers"].items():
        np.testing.assert_allclose(buffers[bname], values, rtol=rtol, atol=1e-6 if dtype == "float32" else 1e-12)
