"""The second torch-parity sweep's fixes, each pinned by a case (tests/golden/sweep2_cases.py) run
under ``import crossgrad as torch`` and compared with torch 2.13's recorded result (sweep2.json,
torch-free), and with live torch when it is installed."""

import json
import pathlib

import crossgrad
import crossgrad.nn.functional as CF
import pytest

from tests.golden.sweep2_cases import CASES
from tests.parity_compare import compare, run

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("sweep2.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch_recorded(name):
    compare(GOLDEN[name], run(CASES[name], crossgrad, CF, crossgrad.nn))


@pytest.mark.parametrize("name", list(CASES))
def test_as_live_torch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    want = run(CASES[name], torch, TF, torch.nn)
    want = {"error": type(want).__name__} if isinstance(want, BaseException) else want
    compare(want, run(CASES[name], crossgrad, CF, crossgrad.nn))
