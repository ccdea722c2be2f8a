"""Record torch 2.13's results of the second parity sweep's cases (sweep2_cases.py) into sweep2.json.

Run: .venv/bin/python tests/golden/make_golden_sweep2.py (needs torch==2.13.0).
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sweep2_cases import CASES  # noqa: E402

OUT = pathlib.Path(__file__).with_name("sweep2.json")


def encode(o, lib) -> object:
    """A result as JSON: tensors as dtype/shape/grad_fn/requires_grad/values (nan/inf as strings)."""
    if isinstance(o, lib.Tensor):
        values = [v if math.isfinite(v) else str(v) for v in np.asarray(o.detach().numpy(), float).ravel().tolist()]
        return {"T": str(o.dtype).split(".")[-1], "shape": list(o.shape), "values": values,
                "grad_fn": type(o.grad_fn).__name__ if o.grad_fn is not None else None,
                "requires_grad": bool(o.requires_grad)}
    if isinstance(o, (tuple, list)):
        return [encode(v, lib) for v in o]
    if isinstance(o, str):
        return o.replace("crossgrad", "torch")
    return o


def run(code: str, lib, functional, nn) -> object:
    ns = {"torch": lib, "F": functional, "nn": nn, "np": np}
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(code, ns)  # noqa: S102 (the test suite's own case text)
        except Exception as err:  # noqa: BLE001 - the raised type is the recorded result
            return {"error": type(err).__name__}
    return encode(ns["out"], lib)


if __name__ == "__main__":
    OUT.write_text(json.dumps({name: run(code, torch, F, torch.nn) for name, code in CASES.items()}, indent=0) + "\n")
    print(f"wrote {OUT} ({len(CASES)} cases)")
