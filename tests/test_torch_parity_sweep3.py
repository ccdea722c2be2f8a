# ruff: noqa: E501  (the bad-input lines are whole calls)
"""The third torch-parity sweep: issue 11's surface as a user (and a tester) writes it — keyword
variants, dtype rules, modules, optimizers, data loading, save/load, bad input. Each case
(tests/golden/sweep3_cases.py) runs under ``import crossgrad as torch`` and is compared with torch
2.13's recorded result (sweep3.json, torch-free) and with live torch when it is installed."""

import json
import pathlib

import crossgrad
import crossgrad.nn.functional as CF
import pytest

from tests.golden.make_golden_sweep3 import run
from tests.golden.sweep3_cases import CASES
from tests.parity_compare import compare

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("sweep3.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch_recorded(name):
    compare(GOLDEN[name], run(CASES[name], crossgrad, CF, crossgrad.nn), strict=True)


@pytest.mark.parametrize("name", list(CASES))
def test_as_live_torch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    want = run(CASES[name], torch, TF, torch.nn)
    want = {"error": type(want).__name__} if isinstance(want, BaseException) else json.loads(json.dumps(want))
    compare(want, run(CASES[name], crossgrad, CF, crossgrad.nn), strict=True)


MESSAGES = {  # issue 11's bad input: the op and the offending value are named (torch's words where shared)
    "F.layer_norm(torch.ones(2, 3, dtype=torch.int64), (3,))": (NotImplementedError, r"layer_norm: .*int64"),
    "F.gelu(torch.tensor([1, 2]))": (NotImplementedError, r"gelu: .*not implemented for 'int64'"),
    "F.dropout(torch.ones(3, dtype=torch.int64), 0.5)": (RuntimeError, r"dropout: result type Float can't be cast to the desired output type int64"),
    "F.nll_loss(torch.ones(2, 3), torch.tensor([0.0, 1.0]))": (RuntimeError, r"nll_loss: expected target dtype to be Long or Byte, but got float32"),
    "F.scaled_dot_product_attention(torch.ones(1, 3, 4), torch.ones(1, 3, 4), torch.ones(1, 3, 4), attn_mask=torch.ones(3, 3, dtype=torch.int64))": (RuntimeError, r"Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: int64"),
    "F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([2.0]))": (RuntimeError, r"all elements of target should be between 0 and 1"),
    "F.kl_div(torch.ones(2), torch.ones(2), reduction='bogus')": (ValueError, r"kl_div: 'bogus' is not a valid value for reduction"),
    "torch.ones(3, dtype=torch.int64).add_(1.5)": (RuntimeError, r"can't be cast to the desired output type Long"),
    "torch.ones(3).mul_(torch.ones(2, 3))": (RuntimeError, r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    "torch.arange(0, 5, -1)": (RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    "torch.arange(0, 5, 0)": (RuntimeError, "step must be nonzero"),
    "torch.zeros(2, -1)": (RuntimeError, r"Trying to create tensor with negative dimension -1: \[2, -1\]"),
    "torch.cat([])": (ValueError, r"expected a non-empty list of Tensors"),
    "-torch.tensor([True])": (RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported"),
    "torch.tensor([True]) - torch.tensor([False])": (RuntimeError, "Subtraction, the `-` operator, with two bool tensors is not supported"),
    "torch.allclose(torch.ones(2), torch.ones(2, dtype=torch.float64))": (RuntimeError, "Float did not match Double"),
    "torch.optim.SGD([torch.ones(2, requires_grad=True) * 2], lr=0.1)": (ValueError, "can't optimize a non-leaf Tensor"),
    "torch.optim.SGD(torch.ones(2, requires_grad=True), lr=0.1)": (TypeError, "should be an iterable of Tensors or dicts, but got torch.FloatTensor"),
    "torch.utils.data.DataLoader([1, 2], shuffle=True, sampler=[0, 1])": (ValueError, "sampler option is mutually exclusive with shuffle"),
    "torch.load(io.BytesIO(), map_location={'cpu': 'cuda:0'})": (ValueError, "one device, 'cpu'"),
}


@pytest.mark.parametrize("code", list(MESSAGES))
def test_bad_input_messages(code):
    import io

    error, words = MESSAGES[code]
    with pytest.raises(error, match=words.replace("torch.FloatTensor", "(torch|crossgrad).FloatTensor")):
        eval(code, {"torch": crossgrad, "F": CF, "io": io})  # noqa: S307 (the test's own text)
