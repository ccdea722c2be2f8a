"""Catalogue entry of to_dtype, a conversion between float dtypes (x.float(), x.double(),
x.to(torch.float64), type_as). No math lives here.

Its three readings: the numeric engine rounds (numpy astype) and casts the gradient back to the
input's dtype (torch's ToCopyBackward0); SymPy sees the identity; finite differences, which
compute in float64, pass the values through unrounded (the derivative of a rounding is 1
wherever a gradient is meant). The node's dtype is the ``dtype`` attribute, not its input's.
"""

from __future__ import annotations

from .ops import UNARY_CASES, Attr, Case, OpSpec, _x
from .shapes import same

FLOAT_DTYPES = ("float32", "float64")

CAST_SPECS: tuple[OpSpec, ...] = (
    OpSpec("to_dtype", _x(), same, "ToCopyBackward0",
           UNARY_CASES[:2] + (Case(((3, 2),), {"dtype": "float32"}), Case(((),), {"dtype": "float32"})),
           attrs=(Attr("dtype", "choice", "float64", FLOAT_DTYPES),),
           doc="input converted to dtype (float32 or float64); the gradient is converted back"),
)
