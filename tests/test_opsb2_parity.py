"""The everyday ops (tests/golden/opsb2_cases.py) under ``import crossgrad as torch`` against torch
2.13's recorded results (opsb2_sweep.json: values, grad_fn names, gradients, float32 and float64,
error types), and against live torch when it is installed."""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.golden.opsb2_cases import CASES
from tests.parity_compare import compare, run

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("opsb2_sweep.json").read_text())["cases"]


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch(name: str) -> None:
    import crossgrad
    import crossgrad.nn.functional as CF

    got = run(CASES[name], crossgrad, CF, crossgrad.nn)
    compare(GOLDEN[name], got)
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        return
    want = run(CASES[name], torch, TF, torch.nn)
    compare({"error": type(want).__name__} if isinstance(want, BaseException) else want, got)
    if isinstance(want, BaseException) and name.startswith("einsum"):  # einsum's texts are torch's own
        assert str(got).replace("crossgrad", "torch") == str(want), f"torch: {want}\ncrossgrad: {got}"
