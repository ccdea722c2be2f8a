"""Record real PyTorch's forward values, grad_fn names and gradients for every catalogue case of
the issue-11 part-A ops, in float32 and float64, to tests/golden/opsa.json.

Run in an environment with torch==2.13.0:  python -m tests.golden.make_golden_opsa
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import torch
from crossgrad.engine import ops

from ..catalogue_inputs import case_inputs, resolved_attrs
from .opsa_torch import torch_call

OUT = pathlib.Path(__file__).parent / "opsa.json"
OPS = [s.name for s in ops.ELEMENTWISE_SPECS] + [s.name for s in getattr(ops, "REDUCTION_SPECS", ())]
DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}


def _record(name: str, index: int, dtype: str) -> dict:
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    attrs = resolved_attrs(spec, case)
    np_dtype, torch_dtype = DTYPES[dtype]
    xs = []
    for inp, arr in zip(spec.inputs, case_inputs(spec, case, seed=0)):
        if arr.dtype.kind in "bi":
            xs.append(torch.from_numpy(arr))
        else:
            xs.append(torch.tensor(arr.astype(np_dtype), dtype=torch_dtype, requires_grad=inp.differentiable))
    out = torch_call(torch, name, xs, attrs)
    values = out.values if hasattr(out, "values") and not callable(out.values) else out
    cot = np.random.default_rng(7).standard_normal(tuple(values.shape)).astype(np_dtype)
    values.backward(torch.from_numpy(cot))
    grads = [None if not x.requires_grad else x.grad.numpy().tolist() for x in xs]
    return {"op": name, "case": index, "dtype": dtype, "grad_fn": type(values.grad_fn).__name__,
            "out": values.detach().numpy().tolist(), "grads": grads}


# kink points: each op evaluated exactly on its kink (the convention is PyTorch's data)
KINKS = [("clamp", {"min": -0.5, "max": 0.5}, [-0.5, 0.5, 0.0, -1.0, 1.0]),
         ("clamp", {"min": 0.0, "max": None}, [0.0, 1.0, -1.0]),
         ("hardtanh", {"min_val": -0.5, "max_val": 0.5}, [-0.5, 0.5, 0.0, -1.0, 1.0]),
         ("leaky_relu", {"negative_slope": 0.2}, [0.0, 1.0, -1.0]),
         ("elu", {"alpha": 0.5}, [0.0, 1.0, -1.0])]


def _kink(name: str, attrs: dict, values: list) -> dict:
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    out = torch_call(torch, name, [x], ops.resolve_attrs(ops.CATALOGUE[name], attrs))
    out.sum().backward()
    return {"op": name, "attrs": attrs, "input": values, "grad": x.grad.tolist()}


def main() -> None:
    records = [_record(name, i, dtype) for name in OPS for i in range(len(ops.CATALOGUE[name].cases))
               for dtype in DTYPES]
    head = json.dumps({"torch": torch.__version__, "cotangent_seed": 7, "input_seed": 0})[:-1]
    rows = ",\n".join(json.dumps(r) for r in records)  # one case per line
    kinks = ",\n".join(json.dumps(_kink(*k)) for k in KINKS)
    OUT.write_text(f'{head}, "kinks": [\n{kinks}\n],\n"ops": [\n{rows}\n]}}\n')


if __name__ == "__main__":
    main()
