"""Catalogue entries for the transformer's elementwise ops (issue 11, part A). No math here."""

from __future__ import annotations

from typing import Any

from . import shapes as S
from .ops import Attr, Case, Input, OpSpec, Shapes

# the catalogue's value domains (ops.py; restated, as ops.py imports this module while it loads)
REAL: str = "real"
POSITIVE: str = "positive"
NONZERO: str = "nonzero"
BOOL: str = "bool"  # a bool condition / mask: a non-differentiable input of dtype bool
UNARY_CASES: tuple[Case, ...] = (Case(((2, 3),)), Case(((5,),)), Case(((),)))


def _unary(name: str, grad_fn: str, domain: str = REAL, doc: str = "", kink: str = "",
           attrs: tuple[Attr, ...] = (), cases: tuple[Case, ...] = UNARY_CASES) -> OpSpec:
    return OpSpec(name, (Input("input", domain),), S.same, grad_fn, cases, attrs=attrs, kink=kink, doc=doc)


def where_shape(op: str, shapes: Shapes, attrs: dict[str, Any]) -> tuple[int, ...]:
    return S.broadcast(op, S.broadcast(op, shapes[0], shapes[1]), shapes[2])


ELEMENTWISE_SPECS: tuple[OpSpec, ...] = (
    _unary("sin", "SinBackward0"),
    _unary("cos", "CosBackward0"),
    _unary("erf", "ErfBackward0", doc="2/sqrt(pi) * integral_0^x exp(-t^2) dt"),
    _unary("log1p", "Log1PBackward0", POSITIVE, doc="log(1 + input)"),
    _unary("expm1", "Expm1Backward0", doc="exp(input) - 1"),
    _unary("reciprocal", "ReciprocalBackward0", NONZERO, doc="1 / input"),
    _unary("rsqrt", "RsqrtBackward0", POSITIVE, doc="1 / sqrt(input)"),
    _unary("square", "PowBackward0", doc="input ** 2 (torch.square is pow(input, 2))"),
    _unary("silu", "SiluBackward0", doc="input * sigmoid(input)"),
    _unary("gelu", "GeluBackward0", attrs=(Attr("approximate", "choice", "none", ("none", "tanh")),),
           cases=UNARY_CASES + (Case(((2, 3),), {"approximate": "tanh"}),),
           doc="x/2 (1 + erf(x/sqrt 2)); 'tanh': x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))"),
    _unary("leaky_relu", "LeakyReluBackward0", attrs=(Attr("negative_slope", "float", 0.01),),
           cases=UNARY_CASES + (Case(((4,),), {"negative_slope": 0.2}),),
           kink="x = 0: the gradient is negative_slope (PyTorch: x > 0 ? 1 : slope)",
           doc="input where input > 0, else negative_slope * input"),
    _unary("elu", "EluBackward0", attrs=(Attr("alpha", "float", 1.0),),
           cases=UNARY_CASES + (Case(((4,),), {"alpha": 0.5}),),
           kink="x = 0 with alpha != 1: the gradient is alpha (PyTorch: x <= 0 ? alpha exp(x) : 1)",
           doc="input where input > 0, else alpha (exp(input) - 1)"),
    OpSpec("clamp", (Input("input"),), S.same, "ClampBackward1",
           (Case(((2, 3),), {"min": -0.5, "max": 0.5}), Case(((5,),), {"min": 0.0}),
            Case(((3, 1),), {"max": -0.2})),
           attrs=(Attr("min", "opt_float"), Attr("max", "opt_float")),
           kink="input on a bound (min or max): the gradient passes (PyTorch: min <= x <= max ? 1 : 0)",
           doc="min(max(input, min), max); either bound may be absent"),
    OpSpec("hardtanh", (Input("input"),), S.same, "HardtanhBackward0",
           (Case(((2, 3),)), Case(((4,),), {"min_val": -0.5, "max_val": 0.3})),
           attrs=(Attr("min_val", "float", -1.0), Attr("max_val", "float", 1.0)),
           kink="input on a bound (min_val or max_val): the gradient is 0 (PyTorch: min < x < max ? 1 : 0)",
           doc="clamp(input, min_val, max_val)"),
    OpSpec("where", (Input("condition", BOOL, differentiable=False), Input("input"), Input("other")),
           where_shape, "WhereBackward0",
           (Case(((2, 3), (2, 3), (2, 3))), Case(((2, 3), (3,), (2, 1))), Case(((4, 1), (), (1, 3)))),
           doc="input where condition else other (condition a bool tensor), broadcasting"),
)
