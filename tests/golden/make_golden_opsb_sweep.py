"""Record torch 2.13's results of the issue-12/14 parity sweep (opsb_cnn_cases.py,
opsb_higher_cases.py) into opsb_sweep.json: per case the encoded ``out`` or the raised type.

Run: .venv/bin/python tests/golden/make_golden_opsb_sweep.py (needs torch==2.13.0).
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.opsb_parity import all_cases, run  # noqa: E402

OUT = pathlib.Path(__file__).with_name("opsb_sweep.json")


def _short(o: object) -> object:
    """Floats to 13 significant digits (the test compares float64 to 1e-10): a smaller file."""
    if isinstance(o, float):
        return float(f"{o:.13g}")
    if isinstance(o, dict):
        return {k: _short(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_short(v) for v in o]
    return o


if __name__ == "__main__":
    import torch
    import torch.nn.functional as F  # noqa: N812

    cases = all_cases()
    record = {}
    for name, code in cases.items():
        got = run(code, torch, F, torch.nn)
        record[name] = {"error": type(got).__name__} if isinstance(got, BaseException) else got
    text = json.dumps({"torch": torch.__version__, "cases": _short(record)}, separators=(",", ":"))
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")
