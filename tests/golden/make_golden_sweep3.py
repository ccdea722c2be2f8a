"""Record torch 2.13's results of the third parity sweep's cases (sweep3_cases.py) into sweep3.json.

Run: .venv/bin/python tests/golden/make_golden_sweep3.py (needs torch==2.13.0).
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sweep3_cases import CASES  # noqa: E402

OUT = pathlib.Path(__file__).with_name("sweep3.json")


def encode(o, lib) -> object:
    """A result as JSON: tensors as dtype/shape/grad_fn/requires_grad/values (nan/inf as strings),
    dicts as key/value pairs in order, dtypes and sizes by name."""
    if isinstance(o, lib.Tensor):
        values = [v if math.isfinite(v) else str(v) for v in np.asarray(o.detach().numpy(), float).ravel().tolist()]
        return {"T": str(o.dtype).split(".")[-1], "shape": list(o.shape), "values": values,
                "grad_fn": type(o.grad_fn).__name__ if o.grad_fn is not None else None,
                "requires_grad": bool(o.requires_grad)}
    if isinstance(o, dict):
        return {"D": [[encode(k, lib), encode(v, lib)] for k, v in o.items()]}
    if isinstance(o, lib.dtype):
        return "dtype:" + str(o).split(".")[-1]
    if isinstance(o, (tuple, list)):  # torch.Size is a tuple
        return [encode(v, lib) for v in o]
    if isinstance(o, str):
        return o.replace("crossgrad", "torch")
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    return o


def run(code: str, lib, functional, nn) -> object:
    """``out`` of the program encoded, or the exception it raised."""
    ns = {"torch": lib, "F": functional, "nn": nn, "np": np}
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(code, ns)  # noqa: S102 (the test suite's own case text)
            return encode(ns["out"], lib)
        except Exception as err:  # noqa: BLE001 - the raised type is the recorded result
            return err


if __name__ == "__main__":
    import torch  # only here: the torch-free test imports encode and run from this module
    import torch.nn.functional as F  # noqa: N812

    results = {}
    for name, code in CASES.items():
        got = run(code, torch, F, torch.nn)
        results[name] = {"error": type(got).__name__} if isinstance(got, BaseException) else got
    OUT.write_text(json.dumps(results, indent=0) + "\n")
    print(f"wrote {OUT} ({len(CASES)} cases)")
