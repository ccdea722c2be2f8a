"""Regenerate higher_order.json with real PyTorch (needs torch; never run by the tests).

    python tests/golden/make_higher_order_golden.py

Per catalogue case (float64): the Hessian-vector product of sum(op(x) * c) along fixed
directions, and the full Hessian for small cases (tests/higher_cases.py); plus a gradient
penalty graph and a 2-step MAML inner update (tests/higher_graphs.py).
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.golden.make_torch_golden import TORCH_CALLS  # noqa: E402
from tests.higher_cases import case_data, directions, hessian_vector  # noqa: E402
from tests.higher_graphs import gradient_penalty, maml  # noqa: E402


def op_cases() -> list[dict]:
    out = []
    for name, spec in ops.CATALOGUE.items():
        for index in range(len(spec.cases)):
            arrays, attrs, diff = case_data(name, index)
            if not diff or name not in TORCH_CALLS:
                continue
            vs = directions(arrays, diff)
            torch.set_default_dtype(torch.float64)
            res = hessian_vector(torch, TORCH_CALLS[name], arrays, attrs, diff, vs, full=True)
            out.append({"op": name, "case": index, **res})
    return out


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    target = pathlib.Path(__file__).with_name("higher_order.json")
    payload = {"torch": torch.__version__, "ops": op_cases(),
               "gradient_penalty": gradient_penalty(torch), "maml": maml(torch)}
    target.write_text(json.dumps(payload, indent=1))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
