"""Regenerate higher_order_opsa.json with real PyTorch (needs torch==2.13.0; never run by tests).

    .venv/bin/python tests/golden/make_higher_order_opsa_golden.py

Second order of every catalogue op that higher_order.json (the original catalogue) does not
cover, the CNN family excepted (its VJPs do not record yet): per catalogue case (float64) the
Hessian-vector product of sum(op(x) * c) along fixed directions and the full Hessian for small
cases (the same recipe as make_higher_order_golden.py), plus the Jacobian-vector product
obtained by differentiating the VJP through its cotangent.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.golden.make_golden_opsb import TORCH_CALLS as OPSB  # noqa: E402
from tests.golden.make_golden_reductions import CALLS as REDUCTIONS  # noqa: E402
from tests.golden.opsa_torch import torch_call  # noqa: E402
from tests.higher_cases import as_tensor, case_data, cotangent, directions, hessian_vector  # noqa: E402

ORIGINAL = {c["op"] for c in json.loads(pathlib.Path(__file__).with_name("higher_order.json").read_text())["ops"]}
CNN_FAMILY = {"conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
              "adaptive_avg_pool2d", "adaptive_max_pool2d", "batch_norm", "pad", "interpolate"}  # another branch's


def _opsa(name: str):
    return lambda ts, at: torch_call(torch, name, ts, at)


def _reduction(name: str):
    return lambda ts, at: REDUCTIONS[name](ts[0], at)


def torch_op(name: str):
    """The torch expression of catalogue op ``name`` from the golden generators' tables."""
    if name in OPSB:
        return OPSB[name]
    if name in REDUCTIONS:
        return _reduction(name)
    extra = {"scatter_add": lambda ts, at: torch.scatter_add(ts[0], at["dim"], ts[1], ts[2]),
             "dropout": lambda ts, at: ts[0] * ts[1],
             "pixel_shuffle": lambda ts, at: torch.nn.functional.pixel_shuffle(ts[0], at["upscale_factor"])}
    return extra.get(name, _opsa(name))


CALLS = {name: torch_op(name) for name in ops.CATALOGUE if name not in ORIGINAL | CNN_FAMILY}


def jvp_through_cotangent(call, arrays: list, attrs: dict, diff: list[int], vs: list) -> list:
    """d/dw <d sum(op(x) w)/dx, v> at w = c: the op's Jacobian-vector product J v."""
    ts = [as_tensor(torch, a, i in diff) for i, a in enumerate(arrays)]
    y = call(ts, attrs)
    w = torch.tensor(cotangent(tuple(y.shape)), dtype=torch.float64, requires_grad=True)
    grads = torch.autograd.grad((y * w).sum(), [ts[i] for i in diff], create_graph=True)
    total = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, vs))
    return torch.autograd.grad(total, [w])[0].numpy().tolist()


def first_order(call, arrays: list, attrs: dict, diff: list[int]) -> dict:
    """The output, its grad_fn and the first-order gradient of sum(op(x) * c)."""
    ts = [as_tensor(torch, a, i in diff) for i, a in enumerate(arrays)]
    y = call(ts, attrs)
    grads = torch.autograd.grad((y * torch.tensor(cotangent(tuple(y.shape)))).sum(), [ts[i] for i in diff])
    return {"out": y.detach().numpy().tolist(), "grad_fn": type(y.grad_fn).__name__,
            "grads": [g.numpy().tolist() for g in grads]}


def op_cases() -> list[dict]:
    out = []
    for name, call in CALLS.items():
        for index in range(len(ops.CATALOGUE[name].cases)):
            arrays, attrs, diff = case_data(name, index)
            if not diff:
                continue
            vs = directions(arrays, diff)
            res = hessian_vector(torch, call, arrays, attrs, diff, vs, full=True)
            res["jvp"] = jvp_through_cotangent(call, arrays, attrs, diff, vs)
            res["first"] = first_order(call, arrays, attrs, diff)
            out.append({"op": name, "case": index, **res})
    return out


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    np.seterr(all="ignore")
    target = pathlib.Path(__file__).with_name("higher_order_opsa.json")
    payload = {"torch": torch.__version__, "ops": op_cases()}
    target.write_text(json.dumps(payload, indent=1))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
