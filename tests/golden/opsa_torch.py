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
        "tril": lambda: torch.tril(x, at["diagonal"]),
        "triu": lambda: torch.triu(x, at["diagonal"]),
        "logsumexp": lambda: torch.logsumexp(x, _all(x, at["dim"]), keepdim=at["keepdim"]),
        "amax": lambda: torch.amax(x, _all(x, at["dim"]), keepdim=at["keepdim"]),
        "amin": lambda: torch.amin(x, _all(x, at["dim"]), keepdim=at["keepdim"]),
        "max": lambda: torch.max(x) if at["dim"] is None else torch.max(x, at["dim"], at["keepdim"]).values,
        "min": lambda: torch.min(x) if at["dim"] is None else torch.min(x, at["dim"], at["keepdim"]).values,
        "var": lambda: torch.var(x, at["dim"], correction=at["correction"], keepdim=at["keepdim"]),
        "std": lambda: torch.std(x, at["dim"], correction=at["correction"], keepdim=at["keepdim"]),
        "norm": lambda: torch.norm(x, p=at["p"], dim=at["dim"], keepdim=at["keepdim"]),
        "cumsum": lambda: torch.cumsum(x, at["dim"]),
        "prod": lambda: torch.prod(x) if at["dim"] is None else torch.prod(x, at["dim"], at["keepdim"]),
    }
    return calls[op]()


def _all(x: Any, dim: Any) -> Any:
    """torch.logsumexp/amax need the dims spelled out; the catalogue's None means every dim."""
    return tuple(range(x.dim())) if dim is None else dim


# creation and comparisons, written once for torch and crossgrad (``t`` is either module)
EXPRESSIONS: dict[str, Any] = {
    "t.arange(5)": lambda t: t.arange(5),
    "t.arange(1, 2.5, 0.5)": lambda t: t.arange(1, 2.5, 0.5),
    "t.arange(0.0, 1.0, 0.25)": lambda t: t.arange(0.0, 1.0, 0.25),
    "t.arange(2, 11, 3)": lambda t: t.arange(2, 11, 3),
    "t.arange(4, dtype=t.float64)": lambda t: t.arange(4, dtype=t.float64),
    "t.full_like(t.ones(2, 3), 7)": lambda t: t.full_like(t.ones(2, 3), 7),
    "t.full_like(t.ones(2, dtype=t.int64), 2.7)": lambda t: t.full_like(t.ones(2, dtype=t.int64), 2.7),
    "t.zeros_like(t.ones(2, 2, dtype=t.float64))": lambda t: t.zeros_like(t.ones(2, 2, dtype=t.float64)),
    "t.ones_like(t.arange(3))": lambda t: t.ones_like(t.arange(3)),
    "t.tensor([[1.0, 2.0], [3.0, 4.0]]) > t.tensor([2.0, 2.0])":
        lambda t: t.tensor([[1.0, 2.0], [3.0, 4.0]]) > t.tensor([2.0, 2.0]),
    "t.tensor([1.0, 2.0]) <= 1.5": lambda t: t.tensor([1.0, 2.0]) <= 1.5,
    "t.tensor([[1.0], [2.0]]) == t.tensor([1.0, 2.0])":
        lambda t: t.tensor([[1.0], [2.0]]) == t.tensor([1.0, 2.0]),
    "t.tensor([1, 2]) != 2": lambda t: t.tensor([1, 2]) != 2,
    "t.gt(t.tensor([1.0, 3.0]), 2.0)": lambda t: t.gt(t.tensor([1.0, 3.0]), 2.0),
    "t.lt(t.tensor([1.0, 3.0]), t.tensor([3.0, 1.0]))": lambda t: t.lt(t.tensor([1.0, 3.0]), t.tensor([3.0, 1.0])),
    "t.ge(t.tensor([2.0]), 2.0)": lambda t: t.ge(t.tensor([2.0]), 2.0),
    "t.le(t.tensor([2.0]), 1.0)": lambda t: t.le(t.tensor([2.0]), 1.0),
    "t.eq(t.tensor([2.0]), 2.0)": lambda t: t.eq(t.tensor([2.0]), 2.0),
    "t.ne(t.tensor([2.0]), 2.0)": lambda t: t.ne(t.tensor([2.0]), 2.0),
    "t.tensor([1.0, -1.0]) >= 0": lambda t: t.tensor([1.0, -1.0]) >= 0,
    "t.tril(t.ones(3, 4), 1)": lambda t: t.tril(t.ones(3, 4), 1),
    "t.triu(t.ones(2, 3, 3), -1)": lambda t: t.triu(t.ones(2, 3, 3), -1),
}
