"""Numeric forward and hand-written VJP of the transformer's elementwise ops (issue 11, part A).

Each VJP is PyTorch's derivatives.yaml entry written with numpy operators; kinks follow PyTorch
(clamp passes the gradient at its bounds, hardtanh does not; leaky_relu'(0) = slope).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import erf_kernel, gelu_kernel, phi32
from .chunked import chunked
from .rules import _unary
from .ruletools import Arr, Rule, call, sigmoid, traced, unbroadcast

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_GELU_C = 0.044715


def erf(x: Arr) -> Arr:
    """erf elementwise (numpy has none; see erf_kernel); the catalogue's erf op under create_graph."""
    if traced(x):
        return call("erf", x)
    return erf_kernel.erf(x)


def _quiet(fn: Any) -> Any:
    def run(*a: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*a)

    return run


def _float32(x: Any) -> bool:
    """A float32 array: gelu's Phi in float32 arithmetic (phi32), as torch; under create_graph
    (tensors) Phi stays the recorded erf op's."""
    return type(x) is np.ndarray and x.dtype == np.float32


def _gelu(x: Arr, at: dict) -> Arr:
    if at["approximate"] == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x)))
    if _float32(x):
        return x * phi32.phi(x)
    return 0.5 * x * (1 + erf(x / math.sqrt(2.0)))


def _gelu_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """Phi(x) + x phi(x); 'tanh': (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3c x^2)."""
    if at["approximate"] == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x * x))
    cdf = phi32.phi(x) if _float32(x) else 0.5 * (1 + erf(x / math.sqrt(2.0)))
    return g * (cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


def _gelu_forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """gelu; approximate="none" also keeps Phi(x) for the first-order VJP (gelu_kernel), float32
    gelu'(x) itself (phi32, computed chunk by chunk beside Phi)."""
    x = xs[0]
    if at["approximate"] == "tanh" or x.dtype.kind != "f":
        out = chunked(_gelu)(x, at)
        return out, (x, out)
    if x.dtype == np.float32:
        out, slope = phi32.gelu(x, derivative=True)
        return out, (x, out, None, slope)
    out, cdf = gelu_kernel.forward(x)
    return out, (x, out, cdf)


def _gelu_backward(g: Arr, saved: tuple, node: Any) -> tuple:
    """The saved Phi or gelu'(x) on arrays; under create_graph recomputed from the live input."""
    x, out = saved[0], saved[1]
    if len(saved) > 2 and not traced(g, x):
        return (g * saved[3],) if saved[2] is None else (gelu_kernel.vjp(g, x, saved[2]),)
    return (chunked(_gelu_vjp)(g, x, out, node.attrs),)


def _silu_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """s (1 + x (1 - s)), s = sigmoid(x)."""
    s = sigmoid(x)
    return g * s * (1 + x * (1 - s))


def _leaky(x: Arr, at: dict) -> Arr:
    return np.where(x > 0, x, x * np.asarray(at["negative_slope"], x.dtype))


def _elu(x: Arr, at: dict) -> Arr:
    return np.where(x > 0, x, np.asarray(at["alpha"], x.dtype) * np.expm1(np.minimum(x, 0)))


def _clamp(x: Arr, at: dict) -> Arr:
    lo, hi = at["min"], at["max"]
    out = x if lo is None else np.maximum(x, np.asarray(lo, x.dtype))
    return out if hi is None else np.minimum(out, np.asarray(hi, x.dtype))


def _clamp_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """1 where min <= x <= max (the bounds included, as PyTorch), else 0."""
    lo, hi = at["min"], at["max"]
    keep = (x >= lo) & (x <= hi) if lo is not None and hi is not None else x >= lo if lo is not None \
        else x <= hi if hi is not None else None
    return g if keep is None else g * keep


def _hardtanh(x: Arr, at: dict) -> Arr:
    return np.minimum(np.maximum(x, np.asarray(at["min_val"], x.dtype)), np.asarray(at["max_val"], x.dtype))


def _hardtanh_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """1 strictly inside (min_val, max_val), 0 at the bounds and outside (PyTorch)."""
    return g * ((x > at["min_val"]) & (x < at["max_val"]))


def _where(xs: tuple, at: dict) -> tuple[Arr, Any]:
    cond, a, b = xs
    return np.where(cond, a, b), (cond,)


def _where_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    """g to input where condition holds, to other elsewhere (each unbroadcast to its shape)."""
    cond = saved[0]
    zero = np.zeros((), g.dtype)
    ga = unbroadcast(np.where(cond, g, zero), node.shapes[1]) if node.needs[1] else None
    gb = unbroadcast(np.where(cond, zero, g), node.shapes[2]) if node.needs[2] else None
    return None, ga, gb


def _triangle(keep: Any) -> Rule:
    """tril/triu: the same mask on the values and on the gradient."""
    return Rule(lambda xs, at: (keep(xs[0], at["diagonal"]), None),
                lambda g, saved, node: (keep(g, node.attrs["diagonal"]),))


ELEMENTWISE_RULES: dict[str, Rule] = {
    "tril": _triangle(np.tril),
    "triu": _triangle(np.triu),
    "sin": _unary(lambda x, at: np.sin(x), lambda g, x, out, at: g * np.cos(x)),
    "cos": _unary(lambda x, at: np.cos(x), lambda g, x, out, at: -g * np.sin(x)),
    "erf": _unary(lambda x, at: erf(x), lambda g, x, out, at: g * _TWO_OVER_SQRT_PI * np.exp(-x * x)),
    "log1p": _unary(_quiet(lambda x, at: np.log1p(x)), _quiet(lambda g, x, out, at: g / (1 + x))),
    "expm1": _unary(_quiet(lambda x, at: np.expm1(x)), lambda g, x, out, at: g * (out + 1)),
    "reciprocal": _unary(_quiet(lambda x, at: 1 / x), lambda g, x, out, at: -g * out * out),
    "rsqrt": _unary(_quiet(lambda x, at: 1 / np.sqrt(x)), lambda g, x, out, at: -0.5 * g * out * out * out),
    "square": _unary(lambda x, at: x * x, lambda g, x, out, at: 2 * g * x),
    "silu": _unary(lambda x, at: x * sigmoid(x), _silu_vjp),
    "gelu": Rule(_gelu_forward, _gelu_backward),
    "leaky_relu": _unary(_leaky, lambda g, x, out, at: g * np.where(x > 0, 1, at["negative_slope"]).astype(g.dtype)),
    "elu": _unary(_quiet(_elu), lambda g, x, out, at: g * np.where(
        x > 0, 1, at["alpha"] * np.exp(np.minimum(x, 0))).astype(g.dtype)),
    "clamp": _unary(_clamp, _clamp_vjp),
    "hardtanh": _unary(_hardtanh, _hardtanh_vjp),
    "where": Rule(_where, _where_vjp),
}
