"""A selection's zero times an undefined value is zero (the tensor tier, as PyTorch's rules).

max, min, relu, clamp and max pooling have Heaviside partials, NaN where the derivative is
undefined (a window holding a NaN, a tie of infinities such as an all -inf masked row); where and
masked_fill have Piecewise partials that are exactly 0 where the other branch is picked, and an
adjoint arriving there may be NaN (logsumexp of an all -inf row). PyTorch's rules for these ops
select (``where(mask, g, 0)``, an index) rather than multiply, so nothing undefined flows past a
zero: a zero adjoint, or a zero partial, gives 0. numpy's 0 * NaN would make the symbolic witness
NaN alone there and blame it. Only templates with such partials pay the extra pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import sympy as sp

PIECEWISE = (sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)


def piecewise(exprs: Iterable[Any]) -> bool:
    """Whether some partial is a selection (Heaviside, Max, Min, Piecewise)."""
    return any(isinstance(e, sp.Basic) and e.has(*PIECEWISE) for e in exprs)


def times(upstream: Any, partial: Any) -> Any:
    """upstream * partial, 0 where the product is NaN only because one factor is exactly 0."""
    out = upstream * partial
    if isinstance(out, np.ndarray) and out.dtype.kind == "f":
        nan = np.isnan(out)
        if nan.any():
            zero = nan & ((np.asarray(upstream) == 0) | (np.asarray(partial) == 0))
            if zero.any():
                out = np.where(zero, 0.0, out)
    return out
