"""Numeric forward and hand-written VJP of cumprod, atan2, hardswish, hardsigmoid and mish.

Each VJP is written once with numpy operators on its arguments (plain numpy on the first-order
path, recorded catalogue ops under create_graph: see ruletools.call and higher.py); kinks are
torch 2.13's (hardswish'(-3) = 0, hardswish'(3) = 1, hardsigmoid' = 0 on both bounds,
atan2's gradients 0 at (0, 0)).

cumprod's gradient is exact at zeros, as torch's cumprod_backward:
- no zero in x: ``d_k = revcumsum(g * out)_k / x_k``;
- first order with zeros: the same before a row's first zero; at the first zero z,
  ``d_z = revcumsum(g * cumprod(x with x_z set to 1))_z``; 0 after it (each product holds x_z = 0);
- under create_graph with zeros: ``d_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i`` as the
  cumprod of a stack whose copy k holds 1 at k — a polynomial in x, so its own derivative is
  right at the zeros too (O(n^2) values per row; only there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules import _binary, _unary
from .ruletools import Arr, Rule, call, data, sigmoid, traced


def _last(x: Arr, dim: int) -> Arr:
    return np.swapaxes(x, dim, -1)


def _revcumsum(x: Arr) -> Arr:
    """Suffix sums along the last dim."""
    return np.flip(np.cumsum(np.flip(x, -1), axis=-1), -1)


def _cumprod_forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    out = np.cumprod(x, axis=at["dim"] % x.ndim) if x.ndim else x.copy()
    return out, (x, out)


def _cumprod_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    x, out = saved
    if x.ndim == 0:
        return (g,)
    dim = node.attrs["dim"] % x.ndim
    xl, gl, ol = _last(x, dim), _last(g, dim), _last(out, dim)
    zero = data(xl) == 0
    if not zero.any():
        return (_last(_revcumsum(gl * ol) / xl, dim),)
    if traced(g, x, out):
        return (_last(_stacked(gl, xl), dim),)
    return (_last(_first_zero(gl, xl, ol, zero), dim),)


def _first_zero(g: Arr, x: Arr, out: Arr, zero: Arr) -> Arr:
    """First-order gradient along the last dim where zeros occur (plain arrays)."""
    seen = np.cumsum(zero, axis=-1)
    before, first = seen == 0, zero & (seen == 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        head = np.where(before, _revcumsum(g * out) / np.where(before, x, 1), 0)
    skipped = np.cumprod(np.where(first, 1, x), axis=-1)
    return (head + np.where(first, _revcumsum(g * skipped), 0)).astype(g.dtype, copy=False)


def _stacked(g: Arr, x: Arr) -> Arr:
    """sum_{j >= k} g_j prod_{i <= j, i != k} x_i via cumprod of the stack (.., k, i)."""
    n = x.shape[-1]
    eye = np.eye(n, dtype=bool)
    stack = np.where(eye, np.ones((), dtype=x.dtype), np.expand_dims(x, -2))
    products = call("cumprod", stack, dim=-1)  # (.., k, j): prod_{i <= j, i != k} x_i
    upper = np.triu(np.ones((n, n), dtype=x.dtype))
    return (products * (np.expand_dims(g, -2) * upper)).sum(axis=-1)


def _atan2_vjp(g: Arr, s: tuple, needs: tuple) -> tuple:
    """d atan2(a, b) = (b da - a db) / (a^2 + b^2); 0 where a = b = 0 (torch)."""
    a, b, _ = s
    denom = a * a + b * b
    flat = data(denom) == 0
    safe = np.where(flat, np.ones((), dtype=data(denom).dtype), denom)
    zero = np.zeros((), dtype=data(denom).dtype)
    ga = np.where(flat, zero, g * b / safe) if needs[0] else None
    gb = np.where(flat, zero, -g * a / safe) if needs[1] else None
    return ga, gb


def _hardswish(x: Arr, at: dict) -> Arr:
    return x * np.minimum(np.maximum(x + 3, 0), 6) / 6


def _hardswish_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """0 for x <= -3, x/3 + 1/2 inside, 1 for x >= 3 (torch 2.13's bounds)."""
    inside = np.where(data(x) < 3, x / 3 + 0.5, np.ones((), dtype=data(x).dtype))
    return g * np.where(data(x) <= -3, np.zeros((), dtype=data(x).dtype), inside)


def _hardsigmoid(x: Arr, at: dict) -> Arr:
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


def _hardsigmoid_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """1/6 strictly inside (-3, 3), else 0."""
    v = data(x)
    return g * ((v > -3) & (v < 3)).astype(v.dtype) / 6


def _mish(x: Arr, at: dict) -> Arr:
    return x * np.tanh(np.logaddexp(0, x))


def _mish_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)) (torch's mish_backward)."""
    t = np.tanh(np.logaddexp(0, x))
    return g * (t + x * sigmoid(x) * (1 - t * t))


def _quiet(fn: Any) -> Any:
    def run(*a: Any) -> Any:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return fn(*a)
    return run


EVERYDAY_RULES: dict[str, Rule] = {
    "cumprod": Rule(_cumprod_forward, _cumprod_vjp),
    "atan2": _binary(np.arctan2, _atan2_vjp),
    "hardswish": _unary(_hardswish, _hardswish_vjp),
    "hardsigmoid": _unary(_hardsigmoid, _hardsigmoid_vjp),
    "mish": _unary(_quiet(_mish), _quiet(_mish_vjp)),
}
