"""Regenerate elementwise.json with real PyTorch (needs torch; never run by the tests).

    python tests/golden/make_golden_elementwise.py

For every case of the elementwise ops (engine/ops_elementwise.py), in float32 and float64:
PyTorch's grad_fn name, output and input gradient for the inputs tests/catalogue_inputs.py draws
with seed 0 and a cotangent drawn with seed 7; plus the kink conventions at exact kinks.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402
from crossgrad.engine.ops_elementwise import ELEMENTWISE_SPECS  # noqa: E402

from tests.catalogue_inputs import case_inputs, resolved_attrs  # noqa: E402

CALLS = {
    "sin": lambda x, at: torch.sin(x), "cos": lambda x, at: torch.cos(x), "erf": lambda x, at: torch.erf(x),
    "log1p": lambda x, at: torch.log1p(x), "expm1": lambda x, at: torch.expm1(x),
    "reciprocal": lambda x, at: torch.reciprocal(x), "rsqrt": lambda x, at: torch.rsqrt(x),
    "square": lambda x, at: torch.square(x), "silu": lambda x, at: F.silu(x),
    "gelu": lambda x, at: F.gelu(x, approximate=at["approximate"]),
    "leaky_relu": lambda x, at: F.leaky_relu(x, at["negative_slope"]),
    "elu": lambda x, at: F.elu(x, at["alpha"]),
    "clamp": lambda x, at: torch.clamp(x, at["min"], at["max"]),
    "hardtanh": lambda x, at: F.hardtanh(x, at["min_val"], at["max_val"]),
}
KINKS = {  # exact kinks: values and the attributes that put them there
    "leaky_relu": ([0.0, 1.0, -1.0], {"negative_slope": 0.1}), "elu": ([0.0, 1.0, -1.0], {"alpha": 0.5}),
    "clamp": ([-0.5, 0.5, 0.0], {"min": -0.5, "max": 0.5}),
    "hardtanh": ([-1.0, 1.0, 0.0], {"min_val": -1.0, "max_val": 1.0}),
}


def case(name: str, index: int, dtype: torch.dtype) -> dict:
    spec = ops.CATALOGUE[name]
    (x,) = case_inputs(spec, spec.cases[index], seed=0)
    at = resolved_attrs(spec, spec.cases[index])
    t = torch.tensor(x, dtype=dtype, requires_grad=True)
    out = CALLS[name](t, at)
    cot = np.random.default_rng(7).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(cot, dtype=dtype))
    return {"op": name, "case": index, "dtype": str(dtype).split(".")[1], "grad_fn": out.grad_fn.name(),
            "out": out.detach().double().numpy().tolist(), "grad": t.grad.double().numpy().tolist()}


def kink(name: str) -> dict:
    values, at = KINKS[name]
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    CALLS[name](t, ops.resolve_attrs(ops.CATALOGUE[name], at)).sum().backward()
    return {"op": name, "values": values, "attrs": at, "grad": t.grad.numpy().tolist()}


def main() -> None:
    cases = [case(spec.name, i, dtype) for spec in ELEMENTWISE_SPECS for i in range(len(spec.cases))
             for dtype in (torch.float32, torch.float64)]
    data = {"torch": torch.__version__, "ops": cases, "kinks": [kink(n) for n in KINKS]}
    path = pathlib.Path(__file__).with_name("elementwise.json")
    path.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
