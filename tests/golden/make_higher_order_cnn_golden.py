"""Record torch's second derivatives through the CNN ops: tests/golden/higher_order_cnn.json.

    .venv/bin/pip install torch==2.13.0 && .venv/bin/python tests/golden/make_higher_order_cnn_golden.py

Per CNN catalogue case (float64, tests/higher_cases.py inputs and directions): the HVP (and the
full Hessian when small) of sum(c * op(x)) ("linear") and of sum(c * op(x)^2) ("squared"), and
the third derivative d/dx D^2 L[v, v] of the latter ("third");
group_norm / instance_norm squared; the conv-net gradient penalty (tests/higher_cnn_cases.py).
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.golden.make_golden_cnn import torch_call  # noqa: E402
from tests.higher_cases import case_data, directions, hessian_vector  # noqa: E402
from tests.higher_cnn_cases import CNN_OPS, composite_hvp, conv_net_penalty, squared, third_order  # noqa: E402


def op_cases() -> list[dict]:
    out = []
    for name in CNN_OPS:
        for index in range(len(ops.CATALOGUE[name].cases)):
            arrays, attrs, diff = case_data(name, index)
            vs = directions(arrays, diff)
            call = lambda ts, at, name=name: torch_call(name, list(ts), at)  # noqa: E731
            record = {"op": name, "case": index,
                      "linear": hessian_vector(torch, call, arrays, attrs, diff, vs, full=True),
                      "squared": hessian_vector(torch, squared(call), arrays, attrs, diff, vs, full=True),
                      "third": _third(squared(call), arrays, attrs, diff, vs)}
            if name == "batch_norm" and attrs["training"]:
                record.update(_bn_third(record["squared"], arrays, attrs, diff, vs))
            out.append(record)
    return out


def _third(call: object, arrays: list, attrs: dict, diff: list[int], vs: list) -> object:
    """torch's third derivative, or its error (torch refuses some, e.g. a convolution's third
    backward with output_padding: "output_padding is not supported for non-transposed convolutions")."""
    try:
        return third_order(torch, call, arrays, attrs, diff, vs)
    except RuntimeError as exc:
        return {"torch_error": str(exc).splitlines()[0]}


def _bn_composite(ts: list, at: dict) -> torch.Tensor:
    """Training batch_norm from torch primitives (mean, var, affine): differentiable to any order."""
    x, _, _, w, b = ts
    axes = (0,) + tuple(range(2, x.dim()))
    view = (1, -1) + (1,) * (x.dim() - 2)
    mean = x.mean(axes, keepdim=True)
    y = (x - mean) / (((x - mean) ** 2).mean(axes, keepdim=True) + at["eps"]).sqrt()
    y = y if w is None else y * w.reshape(view)
    return y if b is None else y + b.reshape(view)


def _bn_third(squared_native: dict, arrays: list, attrs: dict, diff: list[int], vs: list) -> dict:
    """torch's fused native_batch_norm gets third derivatives wrong in training mode (its double
    backward treats the saved mean/invstd as constants: pytorch/pytorch#186256); record the third
    derivative of torch's primitive composition instead, after checking it equals the fused op to
    second order."""
    composite = squared(lambda ts, at: _bn_composite(list(ts), at))
    check = hessian_vector(torch, composite, arrays, attrs, diff, vs, full=True)
    for key in ("hvp", "hessian"):
        if key in check:
            assert np.allclose(np.concatenate([np.ravel(h) for h in check[key]]),
                               np.concatenate([np.ravel(h) for h in squared_native[key]]), rtol=1e-12, atol=1e-12)
    return {"third": third_order(torch, composite, arrays, attrs, diff, vs),
            "third_source": "torch primitives (mean, var, affine): native_batch_norm's third derivative is "
                            "wrong in training mode, pytorch/pytorch#186256",
            "third_native_torch": _third(squared(lambda ts, at: torch_call("batch_norm", list(ts), at)),
                                         arrays, attrs, diff, vs)}


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    target = pathlib.Path(__file__).with_name("higher_order_cnn.json")
    payload = {"torch": torch.__version__, "ops": op_cases(),
               "composites": {n: composite_hvp(torch, n) for n in ("group_norm", "instance_norm")},
               "conv_net_penalty": conv_net_penalty(torch)}
    target.write_text(json.dumps(payload, indent=1))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
