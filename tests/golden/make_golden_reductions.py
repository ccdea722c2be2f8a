"""Regenerate reductions.json with real PyTorch (needs torch; never run by the tests).

    python tests/golden/make_golden_reductions.py

For every case of engine/ops_reductions.py, in float32 and float64: PyTorch's grad_fn name,
output and input gradient (inputs from tests/catalogue_inputs.py with seed 0, cotangent seed 7);
plus the tie conventions (amax splits ties evenly, max(dim) gives the first index everything).
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402
from crossgrad.engine.ops_reductions import REDUCTION_SPECS  # noqa: E402

from tests.catalogue_inputs import case_inputs, resolved_attrs  # noqa: E402


def _dim(at: dict) -> tuple:
    return () if at.get("dim") is None else tuple(at["dim"])


CALLS = {
    "logsumexp": lambda x, at: torch.logsumexp(x, _dim(at) or tuple(range(x.ndim)), at["keepdim"]),
    "amax": lambda x, at: torch.amax(x, _dim(at), at["keepdim"]),
    "amin": lambda x, at: torch.amin(x, _dim(at), at["keepdim"]),
    "max_all": lambda x, at: x.max(), "min_all": lambda x, at: x.min(),
    "max_dim": lambda x, at: torch.max(x, at["dim"], at["keepdim"]).values,
    "min_dim": lambda x, at: torch.min(x, at["dim"], at["keepdim"]).values,
    "var": lambda x, at: torch.var(x, _dim(at) or None, correction=at["correction"], keepdim=at["keepdim"]),
    "std": lambda x, at: torch.std(x, _dim(at) or None, correction=at["correction"], keepdim=at["keepdim"]),
    "norm": lambda x, at: torch.norm(x, p=at["p"], dim=_dim(at) or None, keepdim=at["keepdim"]),
    "prod": lambda x, at: x.prod() if at["dim"] is None else torch.prod(x, at["dim"][0], at["keepdim"]),
    "cumsum": lambda x, at: torch.cumsum(x, at["dim"]),
}
TIES = {"amax": {"dim": (1,), "keepdim": False}, "max_dim": {"dim": 1, "keepdim": False},
        "max_all": {}, "amin": {"dim": (1,), "keepdim": False}, "min_dim": {"dim": 1, "keepdim": False}}
TIED = [[1.0, 3.0, 3.0], [-2.0, -2.0, 0.5]]


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


def tie(name: str) -> dict:
    t = torch.tensor(TIED, dtype=torch.float64, requires_grad=True)
    at = ops.resolve_attrs(ops.CATALOGUE[name], TIES[name])
    CALLS[name](t, at).sum().backward()
    return {"op": name, "attrs": TIES[name], "values": TIED, "grad": t.grad.numpy().tolist()}


def main() -> None:
    cases = [case(spec.name, i, dtype) for spec in REDUCTION_SPECS for i in range(len(spec.cases))
             for dtype in (torch.float32, torch.float64)]
    data = {"torch": torch.__version__, "ops": cases, "ties": [tie(n) for n in TIES]}
    path = pathlib.Path(__file__).with_name("reductions.json")
    path.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
