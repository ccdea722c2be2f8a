"""Piecewise on raw mpmath values: conditions tested first, only the chosen branch computed.

SymPy's mpmath code for a Piecewise is lazy too, but an exception in it (mpmath raises on
0 ** -0.5, where IEEE pow and torch give inf) made every partial of the template NaN; here the
branch is built from raw nodes (engine/symbolic/raw.py), so a power of zero is inf and a branch
not taken is never computed. Comparisons with NaN are false (Ne true), as in Python and IEEE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from mpmath import libmp

Raw = tuple
Node = Callable[[list], Raw]
Test = Callable[[list], bool]
NAN = libmp.fnan

_RELATIONS: dict[type, Callable[[Raw, Raw], bool]] = {
    sp.Eq: libmp.mpf_eq, sp.Lt: libmp.mpf_lt, sp.Le: libmp.mpf_le, sp.Gt: libmp.mpf_gt, sp.Ge: libmp.mpf_ge,
    sp.Ne: lambda a, b: a == NAN or b == NAN or not libmp.mpf_eq(a, b),
}


def condition(c: Any, node: Callable[[sp.Expr], Node]) -> Test | None:
    """A test of the environment for ``c`` (relations, And, Or, True, False); None if not covered."""
    if c is sp.true or c is sp.false:
        value = bool(c)
        return lambda env: value
    relation = _RELATIONS.get(type(c))
    if relation is not None:
        lhs, rhs = node(c.lhs), node(c.rhs)
        return lambda env: relation(lhs(env), rhs(env))
    if isinstance(c, (sp.And, sp.Or)):
        parts = [condition(a, node) for a in c.args]
        if any(p is None for p in parts):
            return None
        combine = all if isinstance(c, sp.And) else any
        return lambda env: combine(p(env) for p in parts)  # type: ignore[misc]
    return None


def piecewise(e: sp.Piecewise, node: Callable[[sp.Expr], Node]) -> Node | None:
    """The raw-value function of ``e``: the first branch whose condition holds (NaN if none);
    None when some condition is not covered (the caller lambdifies instead)."""
    branches = []
    for expr, cond in e.args:
        test = condition(cond, node)
        if test is None:
            return None
        branches.append((test, node(expr)))

    def run(env: list) -> Raw:
        for test, value in branches:
            if test(env):
                return value(env)
        return NAN

    return run
