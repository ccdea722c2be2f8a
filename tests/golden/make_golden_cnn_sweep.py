"""Record torch 2.13's results of the CNN parity sweep's cases (cnn_sweep_cases.py) into cnn_sweep.json.

Run: .venv/bin/python tests/golden/make_golden_cnn_sweep.py (needs torch==2.13.0).
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from cnn_sweep_cases import CASES  # noqa: E402
from make_golden_sweep3 import run  # noqa: E402 (the third sweep's runner and encoding)

OUT = pathlib.Path(__file__).with_name("cnn_sweep.json")


def shrink(o: object, digits: int = 13) -> object:
    """Floats to 13 significant digits, a float32 tensor's to 9 (the comparison's tolerances are
    1e-10 and 1e-5)."""
    if isinstance(o, float):
        return float(f"{o:.{digits}g}")
    if isinstance(o, list):
        return [shrink(v, digits) for v in o]
    if isinstance(o, dict):
        return {k: shrink(v, 9 if o.get("T") == "float32" else digits) for k, v in o.items()}
    return o


if __name__ == "__main__":
    import torch
    import torch.nn.functional as F  # noqa: N812

    results = {}
    for name, code in CASES.items():
        got = run(code, torch, F, torch.nn)
        results[name] = {"error": type(got).__name__} if isinstance(got, BaseException) else shrink(got)
    OUT.write_text(json.dumps(results, separators=(",", ":")).replace('},"', '},\n"') + "\n")
    print(f"wrote {OUT} ({len(CASES)} cases)")
