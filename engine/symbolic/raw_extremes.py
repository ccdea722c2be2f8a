"""Max, Min and Heaviside on raw mpmath values with torch's NaN rule.

torch's max/min (amax, max(dim), max pooling, maximum, relu, clamp) propagate NaN: a window or
pair holding a NaN has a NaN maximum. Python's ``max`` on mpf values does not (a comparison with
NaN is false, so the result depends on where the NaN stands), and SymPy prints Heaviside for
mpmath as comparisons that send NaN to 1. Here a NaN argument gives NaN, so the exact tier's
forward of a NaN window is NaN, as torch's, and its derivative there is NaN (undefined), never a
number compared as if it were one. A tie (equal arguments, also two infinities) is Heaviside's
H0, SymPy's 1/2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp
from mpmath import libmp

Raw = tuple
Node = Callable[[list], Raw]
NAN = libmp.fnan


def _is_nan(v: Raw) -> bool:
    return v == NAN


def extreme(values: Sequence[Raw], larger: bool) -> Raw:
    """The largest (or smallest) value; NaN when any is NaN."""
    wins = libmp.mpf_gt if larger else libmp.mpf_lt
    best = values[0]
    for v in values:
        if _is_nan(v):
            return NAN
        if wins(v, best):
            best = v
    return best


def _step(x: Raw, h0: Raw) -> Raw:
    if _is_nan(x):
        return NAN
    sign = libmp.mpf_sign(x)
    return libmp.fone if sign > 0 else libmp.fzero if sign < 0 else h0


def node(e: sp.Expr, args: list[Node], constant: Callable[[sp.Expr], Raw]) -> Node:
    """The raw-value function of ``e`` (a Max, Min or Heaviside) from its arguments' functions."""
    if isinstance(e, sp.Heaviside):
        x = args[0]
        h0 = constant(e.args[1] if len(e.args) > 1 else sp.S.Half)
        return lambda env: _step(x(env), h0)
    larger = isinstance(e, sp.Max)
    return lambda env: extreme([a(env) for a in args], larger)


def _objects(larger: bool) -> Callable[..., Any]:
    """Python's max/min for lambdified mpmath code (a Max nested in a Piecewise), NaN-propagating."""
    def pick(*values: Any) -> Any:
        nan = next((v for v in values if v != v), None)
        if nan is not None:
            return nan
        return max(values) if larger else min(values)
    return pick


NAMESPACE = {"max": _objects(True), "min": _objects(False)}
