"""Record torch 2.13's seeded random streams (tests/golden/torch_rng_cases.py) into torch_rng.json.

Each array is stored whole (dtype, shape, little-endian bytes as hex) when it has at most 40
values, else as its first 16 values plus a SHA-256 of all its bytes, so a torch-free test compares
every bit. Run: .venv/bin/python tests/golden/make_golden_torch_rng.py (needs torch==2.13.0).
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from torch_rng_cases import CASES  # noqa: E402

OUT = pathlib.Path(__file__).with_name("torch_rng.json")
WHOLE = 40


def record(arr: np.ndarray) -> dict:
    """An array as JSON: whole when small, else a head and a digest of every byte."""
    arr = np.ascontiguousarray(arr)
    entry: dict = {"dtype": arr.dtype.str, "shape": list(arr.shape)}
    if arr.size <= WHOLE:
        entry["hex"] = arr.tobytes().hex()
    else:
        entry["head"] = arr.ravel()[:16].tobytes().hex()
        entry["sha256"] = hashlib.sha256(arr.tobytes()).hexdigest()
    return entry


def main() -> None:
    assert torch.__version__.startswith("2.13"), torch.__version__
    golden = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
              "cases": {name: {k: record(v) for k, v in case(torch).items()} for name, case in CASES.items()}}
    OUT.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
