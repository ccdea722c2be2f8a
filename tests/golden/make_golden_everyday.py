"""Regenerate higher_order_everyday.json with real PyTorch (needs torch==2.13.0; never run by tests).

    .venv/bin/python tests/golden/make_golden_everyday.py

For every catalogue case of cumprod, atan2, hardswish, hardsigmoid and mish (inputs drawn by
tests/catalogue_inputs.py with seed 0, cotangent with seed 7): in float32 and float64 the
output, grad_fn and gradients ("first32"/"first"), and in float64 the HVP, the full Hessian and
the JVP through the cotangent (make_higher_order_opsa_golden.py's recipe). Cases with zeros
(cumprod) and the hardswish/hardsigmoid bounds are in opsb2_cases.py.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.golden.everyday_torch import torch_calls  # noqa: E402
from tests.golden.make_higher_order_opsa_golden import first_order, jvp_through_cotangent  # noqa: E402
from tests.higher_cases import case_data, cotangent, directions, hessian_vector  # noqa: E402

# torch has no double backward of hardsigmoid_backward: its second order from the same function
# spelled with clamp (equal values; first order is still torch's own hardsigmoid)
SECOND_ORDER = {"hardsigmoid": lambda x, at: (x[0] + 3).clamp(0, 6) / 6}


def first32(call, arrays: list, attrs: dict, diff: list[int]) -> dict:
    ts = [torch.tensor(a, dtype=torch.float32, requires_grad=i in diff) for i, a in enumerate(arrays)]
    y = call(ts, attrs)
    cot = torch.tensor(cotangent(tuple(y.shape)), dtype=torch.float32)
    grads = torch.autograd.grad((y * cot).sum(), [ts[i] for i in diff])
    return {"out": y.detach().double().numpy().tolist(), "grad_fn": type(y.grad_fn).__name__,
            "grads": [g.double().numpy().tolist() for g in grads]}


def op_cases() -> list[dict]:
    out = []
    for name, call in torch_calls(torch).items():
        for index in range(len(ops.CATALOGUE[name].cases)):
            arrays, attrs, diff = case_data(name, index)
            vs = directions(arrays, diff)
            twice = SECOND_ORDER.get(name, call)
            res = hessian_vector(torch, twice, arrays, attrs, diff, vs, full=True)
            res["jvp"] = jvp_through_cotangent(twice, arrays, attrs, diff, vs)
            res["first"] = first_order(call, arrays, attrs, diff)
            res["first32"] = first32(call, arrays, attrs, diff)
            out.append({"op": name, "case": index, **res})
    return out


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    np.seterr(all="ignore")
    target = pathlib.Path(__file__).with_name("higher_order_everyday.json")
    payload = {"torch": torch.__version__, "ops": op_cases()}
    target.write_text(json.dumps(payload, indent=0))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
