"""Issue 11 conformance against values real PyTorch 2.13 recorded (tests/golden/conformance_opsa.json,
made by tests/golden/make_golden_conformance_opsa.py from the same programs): in-place forms
(inplace=True, F.relu_, x.exp_(), x.unsqueeze_()), randint's keyword forms, cat beside
torch.tensor([]), clamp_min/clamp_max grad_fn names, arange of a tensor, n-D integer indices on a
later dim, and torch's refusals. Needs no torch."""

from __future__ import annotations

import json
import pathlib

import crossgrad
import numpy as np
import pytest

from .golden.conformance_opsa_cases import CASES, ERRORS, X, plain

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "conformance_opsa.json").read_text())


def _same(got, want, where: str) -> None:  # noqa: ANN001
    if isinstance(want, dict) and "values" in want and "dtype" in want:
        assert (got["dtype"], got["shape"]) == (want["dtype"], want["shape"]), where
        np.testing.assert_allclose(np.asarray(got["values"], float), np.asarray(want["values"], float),
                                   rtol=2e-6, atol=1e-7, err_msg=where)
    elif isinstance(want, dict):
        assert sorted(got) == sorted(want), where
        for k in want:
            _same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{where}[{i}]")
    else:
        assert got == want, where


def test_golden_covers_every_program():
    assert sorted(GOLDEN["cases"]) == sorted(CASES) and sorted(GOLDEN["errors"]) == sorted(ERRORS)
    assert GOLDEN["torch"].startswith("2.13.0")


@pytest.mark.parametrize("name", sorted(CASES))
def test_program_matches_torch(name: str):
    _same(plain(CASES[name](crossgrad)), GOLDEN["cases"][name], name)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_refused_as_torch(name: str):
    with pytest.raises(Exception) as info:
        ERRORS[name](crossgrad)
    assert isinstance(info.value, {"RuntimeError": RuntimeError, "IndexError": IndexError}[GOLDEN["errors"][name]])


def test_inplace_relu_writes_through_to_views_without_grad():
    x = crossgrad.tensor(X)
    flat = x.view(-1)
    crossgrad.nn.functional.relu(x, inplace=True)
    assert np.array_equal(flat.numpy(), np.maximum(X, 0).ravel())


def test_inplace_on_graph_keeps_saved_values_for_backward():
    """relu_ on exp's output: the exp node keeps its own output, so w.grad is d/dw sum(relu(exp(w)))."""
    w = crossgrad.tensor(X, requires_grad=True)
    h = w.exp()
    crossgrad.nn.functional.relu(h, inplace=True)
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.exp(X), rtol=1e-14)


def test_inplace_on_part_of_a_graph_tensor_is_refused_by_name():
    h = crossgrad.tensor(X, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="relu_: crossgrad does not record an in-place op on part of a tensor"):
        crossgrad.nn.functional.relu(h[:, :2], inplace=True)
    a, _ = h.split(2, dim=1)
    with pytest.raises(RuntimeError, match="exp_: crossgrad does not record"):
        a.exp_()
    np.testing.assert_array_equal(h.detach().numpy(), 2 * X)


def test_check_agrees_after_inplace_activations():
    crossgrad.manual_seed(0)
    m = crossgrad.nn.Sequential(crossgrad.nn.Linear(3, 4).double(), crossgrad.nn.ReLU(inplace=True),
                                crossgrad.nn.Linear(4, 2).double(), crossgrad.nn.SiLU(inplace=True))
    assert crossgrad.check(m(crossgrad.tensor(X)).pow(2).sum()).verdict == "agree"


@pytest.mark.parametrize("dtype", [crossgrad.float32, crossgrad.float64])
def test_check_agrees_after_graph_writes(dtype):
    """outs[t] = h in a loop, buffer.add_(w), mul_, a masked write: every witness sees the rebased graph."""
    w = crossgrad.tensor(X, dtype=dtype, requires_grad=True)
    h = crossgrad.zeros(3, dtype=dtype)
    outs = crossgrad.zeros(4, 3, dtype=dtype)
    for t in range(4):
        h = crossgrad.tanh(w[0] * h + w[1])
        outs[t] = h
    buffer = crossgrad.zeros(2, 3, dtype=dtype)
    buffer.add_(w * 2)
    buffer.mul_(w)
    buffer[buffer > 0.5] = 0.0
    loss = (outs * crossgrad.arange(12.0, dtype=dtype).view(4, 3)).sum() + buffer.pow(2).sum()
    assert type(outs.grad_fn).__name__ == "CopySlices"
    assert crossgrad.check(loss).verdict == "agree"
