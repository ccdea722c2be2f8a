"""The second torch-parity sweep's fixes, each pinned by a case (tests/golden/sweep2_cases.py) run
under ``import crossgrad as torch`` and compared with torch 2.13's recorded result (sweep2.json,
torch-free), and with live torch when it is installed."""

import builtins
import json
import math
import pathlib
import warnings

import crossgrad
import crossgrad.nn.functional as CF
import numpy as np
import pytest

from tests.golden.make_golden_sweep2 import encode
from tests.golden.sweep2_cases import CASES

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("sweep2.json").read_text())


def _run(code, lib, functional, nn):
    ns = {"torch": lib, "F": functional, "nn": nn, "np": np}
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(code, ns)  # noqa: S102 (the test suite's own case text)
        except Exception as err:  # noqa: BLE001 - the raised type is compared
            return err
    return encode(ns["out"], lib)


def _same(want, got, path="out"):
    if isinstance(want, dict) and "T" in want:
        assert isinstance(got, dict), f"{path}: expected a tensor, got {got!r}"
        for key in ("T", "shape", "grad_fn", "requires_grad"):
            assert got[key] == want[key], f"{path}.{key}: torch {want[key]!r}, crossgrad {got[key]!r}"
        w = np.array([float(v) for v in want["values"]])
        g = np.array([float(v) for v in got["values"]])
        tol = 1e-5 if want["T"] == "float32" else 1e-10
        assert np.allclose(g, w, rtol=tol, atol=tol, equal_nan=True), f"{path}: {g} vs torch {w}"
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} vs torch {want!r}"
        for k, (a, b) in enumerate(zip(want, got)):
            _same(a, b, f"{path}[{k}]")
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=1e-9), f"{path}: {got} vs torch {want}"
    else:
        assert got == want, f"{path}: {got!r} vs torch {want!r}"


def _compare(want, got):
    if isinstance(want, dict) and "error" in want:
        kind = getattr(builtins, want["error"])
        assert isinstance(got, kind), f"torch raised {want['error']}, crossgrad gave {got!r}"
        assert str(got), "the error says nothing"
        return
    assert not isinstance(got, BaseException), f"crossgrad raised {got!r}"
    _same(want, got)


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch_recorded(name):
    _compare(GOLDEN[name], _run(CASES[name], crossgrad, CF, crossgrad.nn))


@pytest.mark.parametrize("name", list(CASES))
def test_as_live_torch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    want = _run(CASES[name], torch, TF, torch.nn)
    want = {"error": type(want).__name__} if isinstance(want, BaseException) else want
    _compare(want, _run(CASES[name], crossgrad, CF, crossgrad.nn))
