"""Record real PyTorch's results for the issue-11 conformance programs to
tests/golden/conformance_opsa.json.

Run in an environment with torch==2.13.0:  python -m tests.golden.make_golden_conformance_opsa
"""

from __future__ import annotations

import json
import pathlib

import torch

from .conformance_opsa_cases import CASES, ERRORS, plain

OUT = pathlib.Path(__file__).parent / "conformance_opsa.json"


def _error(program) -> str:  # noqa: ANN001
    try:
        program(torch)
    except Exception as e:  # noqa: BLE001 (the type is the record)
        return type(e).__name__
    raise AssertionError("torch accepted a program recorded as an error")


def main() -> None:
    data = {"torch": torch.__version__, "cases": {n: plain(p(torch)) for n, p in CASES.items()},
            "errors": {n: _error(p) for n, p in ERRORS.items()}}
    OUT.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
