"""Record torch 2.13's results of tests/golden/higher_api_cases.py into higher_api.json: per case
the encoded ``out``, or the raised type and message.

Run: .venv/bin/python tests/golden/make_golden_higher_api.py (needs torch==2.13.0).
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.golden.higher_api_cases import CASES  # noqa: E402
from tests.parity_compare import run  # noqa: E402

OUT = pathlib.Path(__file__).with_name("higher_api.json")

if __name__ == "__main__":
    import torch
    import torch.nn.functional as F  # noqa: N812

    record = {}
    for name, code in CASES.items():
        got = run(code, torch, F, torch.nn)
        record[name] = ({"error": type(got).__name__, "message": str(got)}
                        if isinstance(got, BaseException) else got)
    OUT.write_text(json.dumps({"torch": torch.__version__, "cases": record}, indent=0) + "\n")
    print(f"wrote {OUT} ({len(CASES)} cases)")
