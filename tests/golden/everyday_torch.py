"""The torch spelling of the everyday-ops sweep's catalogue ops (for the golden generators and
the bridge's every-op test): ``TORCH_CALLS[op](tensors, attrs)``."""

from __future__ import annotations

from typing import Any


def torch_calls(torch: Any) -> dict:
    F = torch.nn.functional
    return {
        "cumprod": lambda x, at: torch.cumprod(x[0], at["dim"]),
        "atan2": lambda x, at: torch.atan2(x[0], x[1]),
        "hardswish": lambda x, at: F.hardswish(x[0]),
        "hardsigmoid": lambda x, at: F.hardsigmoid(x[0]),
        "mish": lambda x, at: F.mish(x[0]),
    }
