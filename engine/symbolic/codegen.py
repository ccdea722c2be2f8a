"""SymPy expressions (our own templates and their ``sympy.diff`` partials) as numpy functions.

What ``sympy.lambdify(symbols, expr, [{...}, "numpy"], cse=...)`` does, with its printer
(NumPyPrinter), but executed in a fixed namespace: lambdify's first call imports numpy's whole
namespace (``from numpy import *`` pulls numpy.ma, numpy.testing, numpy.f2py: ~40 ms of a cold
check) and each call re-inspects its arguments (~1-2 ms). Only expressions built by the
lowerings are printed — never client text.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

_ERF = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf


def erf(x: Any) -> np.ndarray:
    return np.asarray(_ERF(np.asarray(x, np.float64)), np.float64)


def heaviside(x: Any, h0: Any = 0.5) -> np.ndarray:
    """SymPy's Heaviside(x, H0) (SymPy passes its own H0 = 1/2) as numpy's ufunc; lambdify's
    default prints a much slower numpy.select."""
    return np.heaviside(x, float(h0))


NAMESPACE: dict[str, Any] = {"numpy": np, "functools": functools, "math": math, "Heaviside": heaviside, "erf": erf}
_SETTINGS = {"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True,
             "user_functions": {"Heaviside": "Heaviside", "erf": "erf"}}
_COUNT = [0]


def numpy_function(symbols: Sequence[sp.Symbol], expr: sp.Expr | Sequence[sp.Expr],
                   cse: bool = False) -> Callable[..., Any]:
    """``expr`` (or a list of them, returned as a list) as a numpy function of ``symbols``."""
    printer = NumPyPrinter(_SETTINGS)
    many = isinstance(expr, (list, tuple))
    exprs = list(expr) if many else [expr]
    assigned: list[tuple[sp.Symbol, sp.Expr]] = []
    if cse:
        assigned, exprs = sp.cse(exprs)
    names = [printer.doprint(s) for s in symbols]
    lines = [f"def _template({', '.join(names)}):"]
    lines += [f"    {printer.doprint(v)} = {printer.doprint(e)}" for v, e in assigned]
    body = ", ".join(printer.doprint(e) for e in exprs)
    lines.append(f"    return [{body}]" if many else f"    return {body}")
    _COUNT[0] += 1
    namespace = dict(NAMESPACE)
    exec(compile("\n".join(lines), f"<crossgrad-template-{_COUNT[0]}>", "exec"), namespace)  # noqa: S102
    return namespace["_template"]
