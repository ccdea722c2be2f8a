"""Regenerate float32_cancel.json with real PyTorch (needs torch; never run by the tests).

    python tests/golden/make_golden_float32_cancel.py

torch's float32 gradients of the graphs of tests/float32_cancel_cases.py: the forward cancels
large terms, so they differ from the exact gradient by what float32 rounding explains.
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.float32_cancel_cases import cases  # noqa: E402

TORCH = {
    "offset 1e4 square": lambda x, c: ((x + c) - c).square().sum(),
    "layer_norm 1e6 offset": lambda x, w: (F.layer_norm(x, (4,)) * w).sum(),
    "softmax saturated": lambda x, k, w: (torch.softmax(x * k, 1) * w).sum(),
    "batch_norm 1e6 offset": lambda x, w: (F.batch_norm(x, None, None, training=True) * w).sum(),
    "var 1e4 mean": lambda x, u: (x.var(1) * u).sum(),
}


def main() -> None:
    out = {}
    for name, (_, leaves, consts) in cases().items():
        ts = {k: torch.tensor(v, requires_grad=True) for k, v in leaves.items()}
        loss = TORCH[name](**ts, **{k: torch.tensor(v) for k, v in consts.items()})
        grads = torch.autograd.grad(loss, list(ts.values()))
        out[name] = {k: g.numpy().astype(float).tolist() for k, g in zip(ts, grads)}
    path = pathlib.Path(__file__).with_name("float32_cancel.json")
    path.write_text(json.dumps({"torch": torch.__version__, "grads": out}, indent=1) + "\n")


if __name__ == "__main__":
    main()
