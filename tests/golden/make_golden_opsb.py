"""Regenerate opsb.json with real PyTorch (needs torch==2.13.0; never run by the tests).

    .venv/bin/python tests/golden/make_golden_opsb.py

For every catalogue case of the ops of issue 11 part B it stores, in float32 and float64:
PyTorch's grad_fn name, the output, and each input's gradient (by input position) for the
inputs tests/catalogue_inputs.py draws with seed 0 and a cotangent drawn with seed 7.
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

from tests.catalogue_inputs import case_inputs, resolved_attrs  # noqa: E402
from tests.golden.opsb_composites import COMPOSITES, composite_inputs  # noqa: E402


def _squeeze(x: list, at: dict) -> torch.Tensor:
    return x[0].squeeze() if at["dim"] is None else x[0].squeeze(at["dim"])


TORCH_CALLS = {
    "unsqueeze": lambda x, at: x[0].unsqueeze(at["dim"]),
    "squeeze": _squeeze,
    "expand": lambda x, at: x[0].expand(*at["size"]),
    "repeat": lambda x, at: x[0].repeat(*at["repeats"]),
    "flip": lambda x, at: x[0].flip(at["dims"]),
    "gather": lambda x, at: torch.gather(x[0], at["dim"], x[1]),
    "index_select": lambda x, at: torch.index_select(x[0], at["dim"], x[1]),
    "index": lambda x, at: x[0][x[1]],
    "cat": lambda x, at: torch.cat(x, at["dim"]),
    "stack": lambda x, at: torch.stack(x, at["dim"]),
    "embedding": lambda x, at: F.embedding(x[0], x[1], padding_idx=at["padding_idx"]),
    "layer_norm": lambda x, at: F.layer_norm(x[0], at["normalized_shape"], x[1], x[2], at["eps"]),
    "nll_loss": lambda x, at: F.nll_loss(x[0], x[1], x[2], ignore_index=at["ignore_index"], reduction=at["reduction"]),
    "masked_fill": lambda x, at: x[0].masked_fill(x[1], at["value"]),
    "l1_loss": lambda x, at: F.l1_loss(x[0], x[1], reduction=at["reduction"]),
    "smooth_l1_loss": lambda x, at: F.smooth_l1_loss(x[0], x[1], reduction=at["reduction"], beta=at["beta"]),
    "huber_loss": lambda x, at: F.huber_loss(x[0], x[1], reduction=at["reduction"], delta=at["delta"]),
    "kl_div": lambda x, at: F.kl_div(x[0], x[1], reduction=at["reduction"], log_target=at["log_target"]),
    "binary_cross_entropy": lambda x, at: F.binary_cross_entropy(x[0], x[1], x[2], reduction=at["reduction"]),
}
EXTRA = [("embedding", 0, {"padding_idx": 1}), ("embedding", 1, {"padding_idx": -1})]  # not catalogue cases


def _case(name: str, index: int, dtype: torch.dtype, extra: dict | None = None) -> dict:
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    at = {**resolved_attrs(spec, case), **(extra or {})}
    arrays = case_inputs(spec, case, seed=0)
    inputs = spec.input_specs(len(arrays))
    ts = [None if a is None else torch.tensor(a) if a.dtype in (np.int64, np.bool_)
          else torch.tensor(a, dtype=dtype, requires_grad=inp.differentiable) for a, inp in zip(arrays, inputs)]
    out = TORCH_CALLS[name](ts, at)
    cot = np.random.default_rng(7).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(cot, dtype=dtype))
    return {"op": name, "case": index, "attrs": extra or {}, "dtype": str(dtype).removeprefix("torch."),
            "grad_fn": type(out.grad_fn).__name__, "out": out.detach().numpy().tolist(),
            "grads": {str(p): t.grad.numpy().tolist() for p, t in enumerate(ts)
                      if t is not None and t.grad is not None}}


def _composite(k: int, dtype: torch.dtype) -> dict:
    name, shapes, kwargs = COMPOSITES[k]
    arrays = composite_inputs(shapes)
    ts = [torch.tensor(a) if a.dtype == np.bool_ else torch.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = getattr(F, name)(*ts, **kwargs)
    cot = np.random.default_rng(7).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(cot, dtype=dtype))
    return {"composite": k, "dtype": str(dtype).removeprefix("torch."), "grad_fn": type(out.grad_fn).__name__,
            "out": out.detach().numpy().tolist(),
            "grads": {str(p): t.grad.numpy().tolist() for p, t in enumerate(ts) if t.grad is not None}}


def main() -> None:
    cases = [_case(name, i, dtype) for name in TORCH_CALLS for i in range(len(ops.CATALOGUE[name].cases))
             for dtype in (torch.float32, torch.float64)]
    cases += [_case(name, i, dtype, extra) for name, i, extra in EXTRA for dtype in (torch.float32, torch.float64)]
    composites = [_composite(k, dtype) for k in range(len(COMPOSITES)) for dtype in (torch.float32, torch.float64)]
    path = pathlib.Path(__file__).with_name("opsb.json")
    path.write_text(json.dumps({"torch": torch.__version__, "cases": cases, "composites": composites}) + "\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
