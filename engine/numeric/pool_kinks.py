"""Max pooling's kink: a tie inside a window. torch sends the gradient to the first maximum;
the other side sends it to the last and to every other tied tap (the per-element bounds of every
share). ``has_tie`` finds a tie in forward values and
``branch(side)`` is the VJP with side 0 = first maximum, 1 = last (engine/kinks.py composes them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..pool_specs import adaptive_rows, planes, pool_geometry
from .adjoints import to_maxima
from .rules_conv import windows
from .rules_pool import _pads, torch_argmax
from .values_only import tied_windows

Arr = np.ndarray


def _rows(x: Arr, op: str, at: dict, with_index: bool = True) -> tuple[Arr, Arr | None]:
    """(values, flat input indices) per window, one row per output element; -inf / -1 outside
    (the indices only when asked: a tie test reads the values alone)."""
    x = x.reshape(planes(x.shape))
    if op == "adaptive_max_pool2d":
        rows = adaptive_rows(x.shape, at["output_size"])
        return np.where(rows >= 0, x.reshape(-1)[np.maximum(rows, 0)], -np.inf), rows
    kernel, stride, pad, dil, out = pool_geometry(op, x.shape, at)
    pads = [(0, 0), (0, 0)] + _pads(x.shape, kernel, stride, pad, dil, out)
    taps = kernel[0] * kernel[1]
    shape = (tuple(kernel), tuple(out), tuple(stride), tuple(dil))
    values = windows(np.pad(x, pads, constant_values=-np.inf), *shape).reshape(-1, taps)
    if not with_index:
        return values, None
    grid = np.arange(x.size).reshape(x.shape)
    index = windows(np.pad(grid, pads, constant_values=-1), *shape).reshape(-1, taps)
    return values, index


def has_tie(op: str, x: Arr, at: dict) -> bool:
    """Whether some window holds its finite maximum twice: every window with a finite maximum
    holds it at least once, so a tie means more hits in all than such windows."""
    if op == "max_pool2d":
        return tied_windows(x, at)  # the same test on strided views, no window copy
    values, _ = _rows(x, op, at, with_index=False)
    top = values.max(axis=1, keepdims=True)
    finite = np.isfinite(top)
    return bool(np.count_nonzero((values == top) & finite) > np.count_nonzero(finite))


def _pick(values: Arr, index: Arr, side: int) -> Arr:
    """Per window the tap side 0 (torch's: the first maximum, the last NaN) or side 1 (the last
    maximum) takes; a window whose maximum is -inf takes its first (or last) tap in the input."""
    last = values.shape[1] - 1
    pick = torch_argmax(values) if side == 0 else last - values[:, ::-1].argmax(axis=1)
    empty = values.max(axis=1) == -np.inf
    if empty.any():
        valid = index >= 0
        edge = valid.argmax(axis=1) if side == 0 else last - valid[:, ::-1].argmax(axis=1)
        pick = np.where(empty, edge, pick)
    return pick


def _to_other_ties(g: Arr, values: Arr, index: Arr, picked: Arr, size: int) -> Arr:
    """Side 1's extra: every other tap tied at its window's finite maximum also gets the window's
    g, so the hull of the two sides spans [0, g] at each tied element (any share of the window's
    gradient, as kinks.py's amax ties), not only at the first and the last."""
    top = values.max(axis=1, keepdims=True)
    tied = (values == top) & np.isfinite(top) & (index != picked[:, None])
    rows, taps = np.nonzero(tied)
    return np.bincount(index[rows, taps], g.reshape(-1)[rows], minlength=size)


def branch(op: str) -> Callable[[int], Callable[[Arr, Any, Any], tuple]]:
    def rule(side: int) -> Callable[[Arr, Any, Any], tuple]:
        def vjp(g: Arr, saved: Any, node: Any) -> tuple:
            x = saved[2]  # (N, C, H, W) also for an unbatched input (unbatched.py)
            values, index = _rows(x, op, node.attrs)
            assert index is not None
            pick = _pick(values, index, side)
            flat = index[np.arange(len(index)), pick]
            g4 = g.reshape((1, *g.shape)) if g.ndim == 3 else g
            out = to_maxima(g4, flat, x.shape, op, node.attrs)
            if side:
                out = out + _to_other_ties(g4, values, index, flat, x.size).reshape(x.shape)
            return (out.reshape(tuple(node.shapes[0])),)
        return vjp
    return rule


TIE_OPS = ("max_pool2d", "adaptive_max_pool2d")
