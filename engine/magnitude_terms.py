"""VJPs that measure their terms instead of cancelling them, for the floor's magnitudes.

Sign-scrambled adjoints break cancellation *between* nodes (engine/magnitudes.py), not inside
one op's VJP. A normalization's input gradient, rstd (gh - mean(gh) - x_hat mean(gh x_hat)),
cancels for EVERY adjoint when only two elements are normalized together (x_hat = +-1: the two
means take all of gh), as in a training batch_norm of batch 2 or a layer_norm over 2 elements:
float32 leaves rounding noise of eps * |gh| * rstd on a gradient ~eps_norm-small, and the
scrambled pass measured the cancelled value, so torch's right gradient was a mismatch. Here the
magnitude pass uses gh * rstd, the size of the terms that cancel. A softmax row saturated to one-hot
cancels the same way for every adjoint (y_max ~ 1: g_max - sum(g y) ~ 0): its terms are used too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Vjp = Callable[[Any, Any, Any], Any]


class _EvalMode:
    """A batch_norm node as its VJP sees it, in eval mode: dx = g w invstd (with the batch's invstd)."""

    def __init__(self, node: Any) -> None:
        self._node = node
        self.attrs = {**node.attrs, "training": False}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def _batch_norm(vjp: Vjp) -> Vjp:
    return lambda g, saved, node: vjp(g, saved, _EvalMode(node))


def _layer_norm(vjp: Vjp) -> Vjp:
    def run(g: Any, saved: Any, node: Any) -> Any:
        gx, *rest = vjp(g, saved, node)
        _, w, _, rstd = saved
        return (None if gx is None else rstd * (g if w is None else g * w), *rest)
    return run


def _softmax(vjp: Vjp) -> Vjp:
    """y (g - sum(g y)): a saturated row (y one-hot to float32) cancels g_max - sum(g y) to ~0
    for every adjoint; its terms are y |g| and y |sum(g y)|."""
    def run(g: Any, saved: Any, node: Any) -> Any:
        y, dim = saved[1], node.attrs["dim"]
        return (y * (np.abs(g) + np.abs((g * y).sum(axis=dim, keepdims=True))),)
    return run


def _log_softmax(vjp: Vjp) -> Vjp:
    """g - exp(y) sum(g): terms |g| and exp(y) |sum(g)|."""
    def run(g: Any, saved: Any, node: Any) -> Any:
        y, dim = saved[1], node.attrs["dim"]
        return (np.abs(g) + np.exp(y) * np.abs(g.sum(axis=dim, keepdims=True)),)
    return run


TERMS: dict[str, Callable[[Vjp], Vjp]] = {"batch_norm": _batch_norm, "layer_norm": _layer_norm,
                                          "softmax": _softmax, "log_softmax": _log_softmax}


def term_vjp(op: str, vjp: Vjp) -> Vjp:
    """The VJP whose output has the size of ``op``'s cancelling terms (itself for other ops)."""
    wrap = TERMS.get(op)
    return vjp if wrap is None else wrap(vjp)
