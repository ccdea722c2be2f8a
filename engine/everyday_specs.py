"""Catalogue entries of the everyday-ops sweep: cumprod, atan2, hardswish, hardsigmoid, mish
(torch names a single grad_fn for each). No math here; kinks are torch 2.13's, checked against it."""

from __future__ import annotations

from . import shapes as S
from .ops import BINARY_CASES, UNARY_CASES, Attr, Case, Input, OpSpec
from .ops_reductions import _cumsum_shape as _cumsum_shape_rule

_HARD_CASES = UNARY_CASES + (Case(((3, 4),)),)

EVERYDAY_SPECS: tuple[OpSpec, ...] = (
    OpSpec("cumprod", (Input("input"),), _cumsum_shape_rule, "CumprodBackward0",
           (Case(((2, 3),), {"dim": 1}), Case(((4,),), {"dim": 0}), Case(((3, 2),), {"dim": 0}),
            Case(((),), {"dim": 0})),
           attrs=(Attr("dim", "int", 0),),
           kink="none: the gradient at a zero element is the product of the others (torch's cumprod_backward)",
           doc="running product along dim"),
    OpSpec("atan2", (Input("input"), Input("other")), S.binary, "Atan2Backward0", BINARY_CASES,
           kink="input = other = 0: both gradients are 0 (torch)",
           doc="the angle of (other, input): atan2(input, other), broadcasting"),
    OpSpec("hardswish", (Input("input"),), S.same, "HardswishBackward0", _HARD_CASES,
           kink="x = -3: 0 (the left slope); x = 3: 1 (the right slope) (torch 2.13)",
           doc="input * clamp(input + 3, 0, 6) / 6"),
    OpSpec("hardsigmoid", (Input("input"),), S.same, "HardsigmoidBackward0", _HARD_CASES,
           kink="x = -3 or 3: 0 (torch: 1/6 strictly inside (-3, 3))", doc="clamp(input + 3, 0, 6) / 6"),
    OpSpec("mish", (Input("input"),), S.same, "MishBackward0", UNARY_CASES,
           doc="input * tanh(softplus(input))"),
)
