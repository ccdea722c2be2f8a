"""torch.autograd.functional and autograd.grad's pairing rules as torch 2.13's: each case of
tests/golden/higher_api_cases.py under ``import crossgrad as torch`` against the recorded result
(higher_api.json: values, shapes, dtypes, requires_grad; an error's type and exact text), and
against live torch when it is installed. Also backward(create_graph=True)'s reference-cycle
warning, once per process as torch's engine gives it."""

from __future__ import annotations

import json
import pathlib
import warnings

import crossgrad
import crossgrad.nn.functional as CF
import pytest
from crossgrad.engine.numeric import grad_api

from tests.golden.higher_api_cases import CASES
from tests.parity_compare import compare, run

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("higher_api.json").read_text())["cases"]


def _live_torch():  # noqa: ANN202
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        return None
    return torch, TF


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch(name: str) -> None:
    got = run(CASES[name], crossgrad, CF, crossgrad.nn)
    want = GOLDEN[name]
    compare(want, got)
    if isinstance(want, dict) and "error" in want:
        assert str(got) == want["message"]
    live = _live_torch()
    if live is not None:
        torch_got = run(CASES[name], live[0], live[1], live[0].nn)
        compare({"error": type(torch_got).__name__} if isinstance(torch_got, BaseException) else torch_got, got)


def test_golden_covers_every_case() -> None:
    assert set(GOLDEN) == set(CASES)


def test_backward_create_graph_warns_once_as_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grad_api, "_warned", [])
    x = crossgrad.tensor([0.5, -1.0], dtype=crossgrad.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        (x ** 3).sum().backward(create_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** 3).sum().backward(create_graph=True)  # once per process, as torch's TORCH_WARN_ONCE
        crossgrad.autograd.grad((x ** 3).sum(), x, create_graph=True)  # grad never warns
    assert x.grad.tolist() == [1.5, 6.0]


def test_grad_of_a_non_leaf_filled_by_backward_inputs_does_not_warn() -> None:
    """torch warns on a non-leaf's .grad only while it is None (TensorBody.h)."""
    x = crossgrad.tensor([0.5, -1.0], dtype=crossgrad.float64, requires_grad=True)
    h = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert h.grad is None
    (h ** 3).sum().backward(inputs=[h])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert h.grad.tolist() == [3.0, 12.0]
