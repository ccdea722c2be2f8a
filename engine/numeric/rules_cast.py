"""Numeric forward and VJP of to_dtype: numpy's astype, and the gradient cast back to the
input's dtype (torch's ToCopyBackward0). Under create_graph the cast back is recorded."""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import Metadata
from .ruletools import Arr, Rule, call, traced


def _forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """Saves the input's dtype name (no array, so not freed by backward): what the VJP casts back to."""
    x = np.asarray(xs[0])
    return x.astype(at["dtype"]), Metadata(x.dtype.name)


def _vjp(g: Arr, source: Any, node: Any) -> tuple:
    """d to_dtype: the identity, in the input's dtype; the incoming gradient is first rounded to the
    output's dtype (torch's autograd gives a node its gradient in the node's dtype)."""
    for dtype in (node.attrs["dtype"], source):
        if str(g.dtype) != dtype:
            g = call("to_dtype", g, dtype=dtype) if traced(g) else g.astype(dtype)
    return (g,)


CAST_RULES: dict[str, Rule] = {"to_dtype": Rule(_forward, _vjp)}
