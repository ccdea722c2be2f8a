"""Catalogue entries of the elementwise activations and functions (the transformer's everyday
ops): sin, cos, erf, log1p, expm1, reciprocal, rsqrt, square, silu, gelu, leaky_relu, elu,
clamp, hardtanh. PyTorch's names, defaults and grad_fn names; kinks and conventions as data."""

from __future__ import annotations

from . import shapes as S
from .ops import NONZERO, POSITIVE, UNARY_CASES, Attr, Case, OpSpec, _elementwise, _x

WITH_ATTRS = UNARY_CASES[:2]  # (2, 3) and (5,): the attribute variants add their own cases

ELEMENTWISE_SPECS: tuple[OpSpec, ...] = (
    _elementwise("sin", "SinBackward0", doc="sine"),
    _elementwise("cos", "CosBackward0", doc="cosine"),
    _elementwise("erf", "ErfBackward0", doc="the error function, 2/sqrt(pi) int_0^x exp(-t^2) dt"),
    _elementwise("log1p", "Log1PBackward0", POSITIVE, doc="log(1 + input)"),
    _elementwise("expm1", "Expm1Backward0", doc="exp(input) - 1"),
    _elementwise("reciprocal", "ReciprocalBackward0", NONZERO, doc="1 / input"),
    _elementwise("rsqrt", "RsqrtBackward0", POSITIVE, doc="1 / sqrt(input)"),
    _elementwise("square", "PowBackward0", doc="input * input (torch records it as pow(input, 2))"),
    _elementwise("silu", "SiluBackward0", doc="input * sigmoid(input)"),
    OpSpec("gelu", _x(), S.same, "GeluBackward0",
           WITH_ATTRS + (Case(((2, 3),), {"approximate": "tanh"}),),
           attrs=(Attr("approximate", "choice", "none", ("none", "tanh")),),
           doc="input * Phi(input); approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))"),
    OpSpec("leaky_relu", _x(), S.same, "LeakyReluBackward0",
           WITH_ATTRS + (Case(((4,),), {"negative_slope": 0.2}),),
           attrs=(Attr("negative_slope", "float", 0.01),),
           kink="at 0 the gradient is negative_slope (PyTorch takes the left branch)",
           doc="input if input > 0 else negative_slope * input"),
    OpSpec("elu", _x(), S.same, "EluBackward0", WITH_ATTRS + (Case(((4,),), {"alpha": 0.5}),),
           attrs=(Attr("alpha", "float", 1.0),),
           kink="at 0 the gradient is alpha (PyTorch takes the left branch; smooth for alpha = 1)",
           doc="input if input > 0 else alpha * (exp(input) - 1)"),
    OpSpec("clamp", _x(), S.same, "ClampBackward1",
           (Case(((2, 3),), {"min": -0.5, "max": 0.5}), Case(((5,),), {"min": -0.3}), Case(((5,),), {"max": 0.3})),
           attrs=(Attr("min", "opt_float"), Attr("max", "opt_float")),
           kink="at a bound the gradient passes (1), as PyTorch's clamp; hardtanh does not",
           doc="min(max(input, min), max); either bound may be None"),
    OpSpec("hardtanh", _x(), S.same, "HardtanhBackward0",
           WITH_ATTRS + (Case(((5,),), {"min_val": -0.5, "max_val": 0.25}),),
           attrs=(Attr("min_val", "float", -1.0), Attr("max_val", "float", 1.0)),
           kink="at a bound the gradient is 0, as PyTorch's hardtanh; clamp passes it",
           doc="clamp(input, min_val, max_val) with hardtanh's gradient convention"),
)
