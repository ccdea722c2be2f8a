"""Regenerate higher_order_cast.json with real PyTorch (needs torch==2.13.0; never run by tests).

    .venv/bin/python tests/golden/make_golden_cast.py

The catalogue's to_dtype (torch.ops.aten._to_copy, ToCopyBackward0): per catalogue case, from
float64 and from float32 inputs, PyTorch's output, grad_fn, output dtype and first-order gradient
of sum(out * c); for the float64 inputs also the recipe of the other higher_order*.json files
(Hessian-vector product, small Hessian, the JVP through the cotangent).
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.golden.make_higher_order_opsa_golden import first_order, jvp_through_cotangent  # noqa: E402
from tests.higher_cases import case_data, cotangent, directions, hessian_vector  # noqa: E402


def to_dtype(ts: list, at: dict) -> torch.Tensor:
    return torch.ops.aten._to_copy(ts[0], dtype=getattr(torch, at["dtype"]))


def from_float32(arrays: list, at: dict) -> dict:
    """The same case from a float32 input: output and gradient in torch's dtypes."""
    x = torch.tensor(arrays[0].astype(np.float32), requires_grad=True)
    y = to_dtype([x], at)
    (g,) = torch.autograd.grad((y * torch.tensor(cotangent(tuple(y.shape))).to(y.dtype)).sum(), [x])
    return {"out": y.detach().double().numpy().tolist(), "out_dtype": str(y.dtype).removeprefix("torch."),
            "grad": g.double().numpy().tolist(), "grad_dtype": str(g.dtype).removeprefix("torch.")}


def op_cases() -> list[dict]:
    out = []
    for index in range(len(ops.CATALOGUE["to_dtype"].cases)):
        arrays, attrs, diff = case_data("to_dtype", index)
        vs = directions(arrays, diff)
        res = hessian_vector(torch, to_dtype, arrays, attrs, diff, vs, full=True)
        res["jvp"] = jvp_through_cotangent(to_dtype, arrays, attrs, diff, vs)
        res["first"] = first_order(to_dtype, arrays, attrs, diff)
        res["float32_input"] = from_float32(arrays, attrs)
        out.append({"op": "to_dtype", "case": index, **res})
    return out


if __name__ == "__main__":
    target = pathlib.Path(__file__).with_name("higher_order_cast.json")
    payload = {"torch": torch.__version__, "ops": op_cases()}
    target.write_text(json.dumps(payload, indent=1))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
