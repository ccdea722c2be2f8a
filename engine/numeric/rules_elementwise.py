"""Numeric forward and hand-written VJP of the elementwise ops of engine/ops_elementwise.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ruletools import Arr, Rule, sigmoid

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
GELU_CUBIC = 0.044715
_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(x: Arr) -> Arr:
    """numpy has no erf; math.erf per element, in the input's dtype."""
    return np.asarray(_ERF(x), dtype=np.result_type(x, np.float32))


def _unary(fwd: Any, vjp: Any) -> Rule:
    """``fwd(x, attrs)``; ``vjp(g, x, out, attrs)`` the input's gradient (same dtype as ``g``)."""
    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        out = np.asarray(fwd(xs[0], at), dtype=xs[0].dtype)
        return out, (xs[0], out)

    return Rule(forward, lambda g, saved, node: (np.asarray(vjp(g, saved[0], saved[1], node.attrs), g.dtype),))


def _phi(x: Arr) -> Arr:
    """The standard normal density."""
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _gelu(x: Arr, at: dict) -> Arr:
    if at["approximate"] == "tanh":
        return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x**3)))
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def _gelu_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d gelu = Phi(x) + x phi(x); tanh form: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3c x^2)."""
    if at["approximate"] == "tanh":
        t = np.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x**3))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x))
    return g * (0.5 * (1 + erf(x / math.sqrt(2))) + x * _phi(x))


def _silu_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d x s(x) = s (1 + x (1 - s))."""
    s = sigmoid(x)
    return g * s * (1 + x * (1 - s))


def _clamp(x: Arr, at: dict) -> Arr:
    low = -np.inf if at["min"] is None else at["min"]
    high = np.inf if at["max"] is None else at["max"]
    return np.minimum(np.maximum(x, low), high)


def _clamp_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """1 where min <= x <= max, bounds included (PyTorch's clamp_backward)."""
    inside = np.ones_like(x, dtype=bool)
    if at["min"] is not None:
        inside &= x >= at["min"]
    if at["max"] is not None:
        inside &= x <= at["max"]
    return g * inside


ELEMENTWISE_RULES: dict[str, Rule] = {
    "sin": _unary(lambda x, at: np.sin(x), lambda g, x, out, at: g * np.cos(x)),
    "cos": _unary(lambda x, at: np.cos(x), lambda g, x, out, at: -g * np.sin(x)),
    "erf": _unary(lambda x, at: erf(x), lambda g, x, out, at: g * (2 / math.sqrt(math.pi)) * np.exp(-x * x)),
    "log1p": _unary(lambda x, at: np.log1p(x), lambda g, x, out, at: g / (1 + x)),
    "expm1": _unary(lambda x, at: np.expm1(x), lambda g, x, out, at: g * (out + 1)),
    "reciprocal": _unary(lambda x, at: 1 / x, lambda g, x, out, at: -g * out * out),
    "rsqrt": _unary(lambda x, at: 1 / np.sqrt(x), lambda g, x, out, at: -0.5 * g * out * out * out),
    "square": _unary(lambda x, at: x * x, lambda g, x, out, at: 2 * g * x),
    "silu": _unary(lambda x, at: x * sigmoid(x), _silu_vjp),
    "gelu": _unary(_gelu, _gelu_vjp),
    "leaky_relu": _unary(lambda x, at: np.where(x > 0, x, at["negative_slope"] * x),
                         lambda g, x, out, at: g * np.where(x > 0, 1.0, at["negative_slope"])),
    "elu": _unary(lambda x, at: np.where(x > 0, x, at["alpha"] * np.expm1(np.minimum(x, 0))),
                  lambda g, x, out, at: g * np.where(x > 0, 1.0, at["alpha"] * np.exp(np.minimum(x, 0)))),
    "clamp": _unary(_clamp, _clamp_vjp),
    "hardtanh": _unary(lambda x, at: np.clip(x, at["min_val"], at["max_val"]),
                       lambda g, x, out, at: g * ((x > at["min_val"]) & (x < at["max_val"]))),
}
