"""SymPy forward definitions of the transformer's elementwise ops (issue 11, part A).

Forward only: every derivative comes from ``sympy.diff`` of these expressions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Stage, elementwise
from .templates import exact_number as _num

Unary = Callable[[dict], Callable[[sp.Expr], sp.Expr]]


def _gelu(at: dict) -> Callable[[sp.Expr], sp.Expr]:
    if at["approximate"] == "tanh":
        c = sp.Rational(44715, 1000000)
        return lambda x: x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + c * x**3)))
    return lambda x: x / 2 * (1 + sp.erf(x / sp.sqrt(2)))


def _clamp(lo: Any, hi: Any) -> Callable[[sp.Expr], sp.Expr]:
    def f(x: sp.Expr) -> sp.Expr:
        out = x if lo is None else sp.Max(x, _num(lo))
        return out if hi is None else sp.Min(out, _num(hi))

    return f


UNARY_A: dict[str, Unary] = {
    "sin": lambda at: sp.sin,
    "cos": lambda at: sp.cos,
    "erf": lambda at: sp.erf,
    "log1p": lambda at: lambda x: sp.log(1 + x),
    "expm1": lambda at: lambda x: sp.exp(x) - 1,
    "reciprocal": lambda at: lambda x: 1 / x,
    "rsqrt": lambda at: lambda x: 1 / sp.sqrt(x),
    "square": lambda at: lambda x: x**2,
    "silu": lambda at: lambda x: x / (1 + sp.exp(-x)),
    "gelu": _gelu,
    "leaky_relu": lambda at: lambda x: sp.Piecewise((x, x > 0), (_num(at["negative_slope"]) * x, True)),
    "elu": lambda at: lambda x: sp.Piecewise((x, x > 0), (_num(at["alpha"]) * (sp.exp(x) - 1), True)),
    "clamp": lambda at: _clamp(at["min"], at["max"]),
    "hardtanh": lambda at: _clamp(at["min_val"], at["max_val"]),
}


def lower_where(shapes: Sequence[Any], at: dict) -> list[Stage]:
    """input where condition (a 0/1 value) is nonzero, else other; broadcasting all three."""
    out = np.broadcast_shapes(*(tuple(s) for s in shapes))
    pick = lambda c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True))  # noqa: E731
    return [elementwise(pick, shapes[:3], (0, 1, 2), out)]
