"""How each part-A catalogue op is called in real PyTorch (used by make_golden_opsa.py only)."""

from __future__ import annotations

from typing import Any


def torch_call(torch: Any, op: str, xs: list, at: dict) -> Any:
    """The PyTorch expression for catalogue op ``op`` on tensors ``xs`` with attributes ``at``."""
    F = torch.nn.functional
    x = xs[0]
    simple = {"sin": torch.sin, "cos": torch.cos, "erf": torch.erf, "log1p": torch.log1p,
              "expm1": torch.expm1, "reciprocal": torch.reciprocal, "rsqrt": torch.rsqrt,
              "square": torch.square, "silu": F.silu}
    if op in simple:
        return simple[op](x)
    calls = {
        "gelu": lambda: F.gelu(x, approximate=at["approximate"]),
        "leaky_relu": lambda: F.leaky_relu(x, at["negative_slope"]),
        "elu": lambda: F.elu(x, at["alpha"]),
        "clamp": lambda: torch.clamp(x, min=at["min"], max=at["max"]),
        "hardtanh": lambda: F.hardtanh(x, at["min_val"], at["max_val"]),
        "where": lambda: torch.where(xs[0], xs[1], xs[2]),
    }
    return calls[op]()
