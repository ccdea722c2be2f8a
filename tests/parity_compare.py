"""Running a parity sweep's case and comparing its encoded results (tests/golden/make_golden_sweep*.py's ``encode``):
torch's recorded or live result against crossgrad's, tensors by dtype/shape/grad_fn/
requires_grad and values (float32 to 1e-5, float64 to 1e-10), errors by torch's exception type.
``strict``: numbers and other plain values must also be of torch's Python type."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from tests.golden.make_golden_sweep2 import encode


def run(code: str, lib: Any, functional: Any, nn: Any) -> Any:
    """The encoded ``out`` of ``code`` run with ``torch``, ``F`` and ``nn`` bound to ``lib``'s, or
    the exception it raised (sweep2's encoding: tensors, lists, strings, numbers)."""
    ns = {"torch": lib, "F": functional, "nn": nn, "np": np}
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(code, ns)  # noqa: S102 (the test suite's own case text)
        except Exception as err:  # noqa: BLE001 - the raised type is the result
            return err
    return encode(ns["out"], lib)


def same(want: Any, got: Any, path: str = "out", strict: bool = False) -> None:
    """Assert crossgrad's encoded result equals torch's."""
    if isinstance(want, dict) and "T" in want:
        assert isinstance(got, dict) and "T" in got, f"{path}: expected a tensor, got {got!r}"
        for key in ("T", "shape", "grad_fn", "requires_grad"):
            assert got[key] == want[key], f"{path}.{key}: torch {want[key]!r}, crossgrad {got[key]!r}"
        w = np.array([float(v) for v in want["values"]])
        g = np.array([float(v) for v in got["values"]])
        tol = 1e-5 if want["T"] == "float32" else 1e-10
        assert np.allclose(g, w, rtol=tol, atol=tol, equal_nan=True), f"{path}: {g} vs torch {w}"
    elif isinstance(want, dict) and "D" in want:
        assert isinstance(got, dict) and "D" in got, f"{path}: expected a dict, got {got!r}"
        same(want["D"], got["D"], path, strict)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} vs torch {want!r}"
        for k, (a, b) in enumerate(zip(want, got)):
            same(a, b, f"{path}[{k}]", strict)
    elif isinstance(want, float):
        kinds = float if strict else (int, float)
        assert isinstance(got, kinds) and math.isclose(got, want, rel_tol=1e-9), f"{path}: {got!r} vs torch {want}"
    else:
        assert (not strict or type(got) is type(want)) and got == want, f"{path}: {got!r} vs torch {want!r}"


def compare(want: Any, got: Any, strict: bool = False) -> None:
    """torch's result (or {"error": type name}) against crossgrad's (a result or the exception)."""
    if isinstance(want, dict) and "error" in want:
        kind = getattr(builtins, want["error"])
        assert isinstance(got, kind), f"torch raised {want['error']}, crossgrad gave {got!r}"
        assert str(got), "the error says nothing"
        return
    assert not isinstance(got, BaseException), f"crossgrad raised {got!r}"
    same(want, got, strict=strict)
