"""Running and comparing the issue-12/14 parity sweep's cases (tests/golden/opsb_*_cases.py): a
case is a torch program run with ``torch``, ``F`` and ``nn`` bound to real torch or to crossgrad;
its ``out`` is encoded (tensors as dtype/shape/grad_fn/requires_grad/values) and compared."""

from __future__ import annotations

import json
import pathlib

from tests.golden.opsb_cnn_cases import CASES as CNN
from tests.golden.opsb_higher_cases import CASES as HIGHER
from tests.parity_compare import compare, run

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("opsb_sweep.json").read_text())["cases"]


def all_cases() -> dict[str, str]:
    return {**CNN, **HIGHER}


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
