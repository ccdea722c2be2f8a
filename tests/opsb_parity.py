"""Running and comparing the issue-12/14 parity sweep's cases (tests/golden/opsb_*_cases.py): a
case is a torch program run with ``torch``, ``F`` and ``nn`` bound to real torch or to crossgrad;
its ``out`` is encoded (tensors as dtype/shape/grad_fn/requires_grad/values) and compared."""

from __future__ import annotations

import builtins
import json
import math
import pathlib
import warnings
from typing import Any

import numpy as np

from tests.golden.make_golden_sweep2 import encode
from tests.golden.opsb_cnn_cases import CASES as CNN
from tests.golden.opsb_higher_cases import CASES as HIGHER

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("opsb_sweep.json").read_text())["cases"]


def all_cases() -> dict[str, str]:
    return {**CNN, **HIGHER}


def run(code: str, lib: Any, functional: Any, nn: Any) -> Any:
    """The encoded ``out`` of ``code``, or the exception it raised."""
    ns = {"torch": lib, "F": functional, "nn": nn, "np": np}
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(code, ns)  # noqa: S102 (the test suite's own case text)
        except Exception as err:  # noqa: BLE001 - the raised type is the result
            return err
    return encode(ns["out"], lib)


def same(want: Any, got: Any, path: str = "out") -> None:
    """Assert crossgrad's encoded result equals torch's (float32 to 1e-5, float64 to 1e-10)."""
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
            same(a, b, f"{path}[{k}]")
    elif isinstance(want, float):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9), f"{path}: {got} vs torch {want}"
    else:
        assert got == want, f"{path}: {got!r} vs torch {want!r}"


def compare(want: Any, got: Any) -> None:
    """torch's result (or {"error": type name}) against crossgrad's."""
    if isinstance(want, dict) and "error" in want:
        kind = getattr(builtins, want["error"])
        assert isinstance(got, kind), f"torch raised {want['error']}, crossgrad gave {got!r}"
        assert str(got), "the error says nothing"
        return
    assert not isinstance(got, BaseException), f"crossgrad raised {got!r}"
    same(want, got)


def _live_torch() -> tuple | None:
    """(torch, torch.nn.functional) when torch is installed (an optional test oracle), else None."""
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        return None
    return torch, TF


def check_case(name: str, code: str) -> None:
    """Case ``name`` under crossgrad against torch 2.13's recorded result, and against live torch
    when it is installed."""
    import crossgrad
    import crossgrad.nn.functional as CF

    got = run(code, crossgrad, CF, crossgrad.nn)
    compare(GOLDEN[name], got)
    live = _live_torch()
    if live is not None:
        want = run(code, live[0], live[1], live[0].nn)
        compare({"error": type(want).__name__} if isinstance(want, BaseException) else want, got)
