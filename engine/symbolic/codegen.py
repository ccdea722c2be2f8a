"""SymPy expressions (our own templates and their ``sympy.diff`` partials) as numpy functions.

``sympy.lambdify`` with its NumPy printer but a fixed namespace instead of the ``"numpy"``
module string: with the string, lambdify's first call imports numpy's whole namespace
(``from numpy import *`` pulls numpy.ma, numpy.testing, numpy.f2py: ~40 ms of a cold check).
Only expressions built by the lowerings are printed — never client text.
"""

from __future__ import annotations

import functools
import linecache
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.ma  # noqa: F401  (these three are imported lazily by numpy's first np.unique, SymPy's
import sympy as sp
import sympy.codegen.ast  # noqa: F401  first Add and its printer's first call: a process pays for them
import sympy.tensor.tensor  # noqa: F401  once either way, here at import, not inside its first check)
from sympy.printing.numpy import NumPyPrinter

from .. import erf64


def erf(x: Any) -> np.ndarray:
    """erf elementwise in float64: erf64's numpy port of glibc's erf (math.erf's algorithm; equal
    to math.erf but 1 ulp in ~4 elements in 10^4, tests/test_erf64.py). math.erf one element at a
    time was ~80 ms of a GPT block's check (a 524,288-element gelu, forward and partial)."""
    return erf64.erf(np.asarray(x, np.float64))


def heaviside(x: Any, h0: Any = 0.5) -> np.ndarray:
    """SymPy's Heaviside(x, H0) (SymPy passes its own H0 = 1/2) as numpy's ufunc; lambdify's
    default prints a much slower numpy.select."""
    return np.heaviside(x, float(h0))


NAMESPACE: dict[str, Any] = {"numpy": np, "functools": functools, "math": math, "Heaviside": heaviside, "erf": erf}
_SETTINGS = {"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True,
             "user_functions": {"Heaviside": "Heaviside", "erf": "erf"}}


class _Printer(NumPyPrinter):
    """NumPy's printer with And / Or as nested logical_and / logical_or: SymPy prints
    ``logical_and.reduce((a, b))``, which stacks its arguments into one array and fails when the
    placeholders have different (broadcasting) shapes, as a pow_tensor of a (2, 3) base and a (3,)
    exponent's partials do."""

    def _nested(self, name: str, expr: sp.Basic) -> str:
        out = self._print(expr.args[-1])
        for arg in reversed(expr.args[:-1]):
            out = f"numpy.{name}({self._print(arg)}, {out})"
        return out

    def _print_And(self, expr: sp.Basic) -> str:
        return self._nested("logical_and", expr)

    def _print_Or(self, expr: sp.Basic) -> str:
        return self._nested("logical_or", expr)


def numpy_function(symbols: Sequence[sp.Symbol], expr: sp.Expr | Sequence[sp.Expr],
                   cse: bool = False) -> Callable[..., Any]:
    """``expr`` (or a list of them, returned as a list) as a numpy function of ``symbols``:
    lambdify with our printer and namespace only (no ``"numpy"`` module string, so no star-import)."""
    fn: Callable[..., Any] = sp.lambdify(symbols, list(expr) if isinstance(expr, (list, tuple)) else expr,
                                         modules=[NAMESPACE], printer=_Printer(_SETTINGS), cse=cse)
    linecache.cache.pop(fn.__code__.co_filename, None)  # lambdify keeps every source it wrote there
    return fn
