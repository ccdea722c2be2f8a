"""Record torch's second derivatives through the CNN ops: tests/golden/higher_order_cnn.json.

    .venv/bin/pip install torch==2.13.0 && .venv/bin/python tests/golden/make_higher_order_cnn_golden.py

Per CNN catalogue case (float64, tests/higher_cases.py inputs and directions): the HVP (and the
full Hessian when small) of sum(c * op(x)) ("linear") and of sum(c * op(x)^2) ("squared");
group_norm / instance_norm squared; the conv-net gradient penalty (tests/higher_cnn_cases.py).
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.golden.make_golden_cnn import torch_call  # noqa: E402
from tests.higher_cases import case_data, directions, hessian_vector  # noqa: E402
from tests.higher_cnn_cases import CNN_OPS, composite_hvp, conv_net_penalty, squared  # noqa: E402


def op_cases() -> list[dict]:
    out = []
    for name in CNN_OPS:
        for index in range(len(ops.CATALOGUE[name].cases)):
            arrays, attrs, diff = case_data(name, index)
            vs = directions(arrays, diff)
            call = lambda ts, at, name=name: torch_call(name, list(ts), at)  # noqa: E731
            out.append({"op": name, "case": index,
                        "linear": hessian_vector(torch, call, arrays, attrs, diff, vs, full=True),
                        "squared": hessian_vector(torch, squared(call), arrays, attrs, diff, vs, full=True)})
    return out


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    target = pathlib.Path(__file__).with_name("higher_order_cnn.json")
    payload = {"torch": torch.__version__, "ops": op_cases(),
               "composites": {n: composite_hvp(torch, n) for n in ("group_norm", "instance_norm")},
               "conv_net_penalty": conv_net_penalty(torch)}
    target.write_text(json.dumps(payload, indent=1))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
