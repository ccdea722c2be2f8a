"""The elementwise functions of engine/ops_elementwise.py, with PyTorch's signatures
(``torch.sin``, ``torch.nn.functional.gelu``, ...), and the matching Tensor methods."""

from __future__ import annotations

from typing import Any

from .dispatch import apply
from .tensor import Tensor


def sin(input: Tensor) -> Tensor:
    return apply("sin", (input,), {})


def cos(input: Tensor) -> Tensor:
    return apply("cos", (input,), {})


def erf(input: Tensor) -> Tensor:
    return apply("erf", (input,), {})


def log1p(input: Tensor) -> Tensor:
    return apply("log1p", (input,), {})


def expm1(input: Tensor) -> Tensor:
    return apply("expm1", (input,), {})


def reciprocal(input: Tensor) -> Tensor:
    return apply("reciprocal", (input,), {})


def rsqrt(input: Tensor) -> Tensor:
    return apply("rsqrt", (input,), {})


def square(input: Tensor) -> Tensor:
    return apply("square", (input,), {})


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return apply("silu", (input,), {})


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return apply("gelu", (input,), {"approximate": approximate})


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return apply("leaky_relu", (input,), {"negative_slope": float(negative_slope)})


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return apply("elu", (input,), {"alpha": float(alpha)})


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Either bound may be None (not both, as in torch); the gradient passes at a bound."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return apply("clamp", (input,), {"min": None if min is None else float(min),
                                     "max": None if max is None else float(max)})


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    return apply("hardtanh", (input,), {"min_val": float(min_val), "max_val": float(max_val)})


clip = clamp

METHODS: dict[str, Any] = {
    "sin": sin, "cos": cos, "erf": erf, "log1p": log1p, "expm1": expm1, "reciprocal": reciprocal,
    "rsqrt": rsqrt, "square": square, "clamp": clamp, "clip": clip,
}


def _install() -> None:
    """Tensor.sin(), .clamp(min, max), ... as PyTorch has them."""
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)


_install()
