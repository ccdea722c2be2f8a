"""The CNN parity sweep: issue 12's surface as a PyTorch user writes it (tests/golden/cnn_sweep_cases.py),
each case run under ``import crossgrad as torch`` and compared with torch 2.13's recorded result
(cnn_sweep.json, torch-free) and with live torch when it is installed."""

import json
import pathlib

import crossgrad
import crossgrad.nn.functional as CF
import pytest

from tests.golden.cnn_sweep_cases import CASES, FIXED
from tests.golden.make_golden_sweep3 import run
from tests.parity_compare import compare

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("cnn_sweep.json").read_text())
LIVE = sorted(set(FIXED) | set(list(CASES)[::5]))  # every case is compared with the recording; these also live


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch_recorded(name):
    compare(GOLDEN[name], run(CASES[name], crossgrad, CF, crossgrad.nn))


@pytest.mark.parametrize("name", LIVE)
def test_as_live_torch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    want = run(CASES[name], torch, TF, torch.nn)
    want = {"error": type(want).__name__} if isinstance(want, BaseException) else json.loads(json.dumps(want))
    compare(want, run(CASES[name], crossgrad, CF, crossgrad.nn))


def test_fixed_cases_are_in_the_sweep():
    assert set(FIXED) <= set(CASES) and set(CASES) == set(GOLDEN)


def test_unbatched_conv2d_is_one_sample():
    """An unbatched (C, H, W) input gives the batched result of its one sample, and a 2-D input
    torch's error naming the op and the accepted ranks."""
    x = crossgrad.randn(3, 6, 5, dtype=crossgrad.float64)
    w = crossgrad.randn(2, 3, 3, 3, dtype=crossgrad.float64)
    assert crossgrad.equal(CF.conv2d(x, w, padding=1), CF.conv2d(x[None], w, padding=1)[0])
    with pytest.raises(RuntimeError, match=r"conv2d.*Expected 3D \(unbatched\) or 4D \(batched\) input"):
        CF.conv2d(x[0], w)
