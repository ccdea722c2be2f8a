"""Stand-ins for forward rules when only the output value is wanted (plain forward evaluations:
finite differences, kink tests, the forward check), bit for bit the rule's output.

A convolution's rule keeps its window matrix for the weight's gradient; its stand-in copies
each chunk's windows into one reused buffer (the same products). max_pool2d's rule also finds
each window's first maximum, the index its VJP reads; its stand-in takes the maxima on strided
views of the input (no window copy), along the width and then the height: ``np.maximum(tap,
best)`` keeps ``best`` on a tie, so each value is the window's first maximum bit for bit (-0.0
and 0.0 included) and a NaN wins, as in the rule. A stand-in replaces exactly the rule it was
written for: ``STAND_INS`` is keyed by that forward function, so a rule swapped in the table (a
planted bug in a test) runs as itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pool_specs import planes, pool_geometry
from . import gelu_kernel
from .rules import RULES
from .rules_conv import conv_and_cols, windows
from .rules_pool import _pads
from .ruletools import Arr


def _geometry(x: Arr, at: dict) -> tuple[Arr, list[int], list[int], list[int], list[int]]:
    """max_pool2d's -inf padded input and its kernel, stride, dilation and output size."""
    kernel, stride, pad, dil, out = pool_geometry("max_pool2d", x.shape, at)
    pads = _pads(x.shape, kernel, stride, pad, dil, out)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads, constant_values=-np.inf) if any(map(any, pads)) else x
    return xp, kernel, stride, dil, out


def _maxima(x: Arr, at: dict) -> Arr:
    """Each window's first maximum in row-major tap order: along the width within each window
    row (the first of equal values kept), then over those rows (the first row kept) — the same
    element, in kh + kw passes instead of kh kw."""
    xp, (kh, kw), (sh, sw), (dh, dw), (oh, ow) = _geometry(x, at)
    rows = _first_maxima([xp[..., q * dw: q * dw + sw * (ow - 1) + 1: sw] for q in range(kw)])
    best = _first_maxima([rows[..., p * dh: p * dh + sh * (oh - 1) + 1: sh, :] for p in range(kh)])
    return best if best.base is None else best.copy()  # (a 1x1 kernel: a new array, not a view)


def _first_maxima(views: list[Arr]) -> Arr:
    """Elementwise maximum of the views, the earliest one's value on a tie (a lone view as it is)."""
    if len(views) == 1:
        return views[0]
    best = np.maximum(views[1], views[0])
    for view in views[2:]:
        np.maximum(view, best, out=best)
    return best


def pool_maxima(x: Arr, at: dict) -> Arr:
    """max_pool2d's values: each window's maximum (a (C, H, W) input is one sample)."""
    y = _maxima(x.reshape(planes(x.shape)), at)
    return y.reshape(y.shape[1:]) if x.ndim == 3 else y


def tied_windows(x: Arr, at: dict) -> bool:
    """Whether some window holds its finite maximum at two taps (max_pool2d's kink)."""
    x = x.reshape(planes(x.shape))
    xp, kernel, stride, dil, out = _geometry(x, at)
    win = windows(xp, tuple(kernel), tuple(out), tuple(stride), tuple(dil))
    best = _maxima(x, at)
    taps = list(np.ndindex(*kernel))
    hits = np.zeros(best.shape, np.uint8 if len(taps) < 255 else np.int32)
    for p, q in taps:
        hits += win[..., p, q] == best
    return bool(np.any((hits > 1) & np.isfinite(best)))


def conv_values(xs: tuple, at: dict) -> tuple[Arr, None]:
    """conv1d/conv2d's output without its window matrix (the rule keeps it for the weight's
    gradient): the same products, each chunk's windows in one reused cache-sized buffer."""
    return conv_and_cols(xs[0], xs[1], xs[2] if len(xs) > 2 else None, at, keep=False)[0], None


def gelu_values(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """gelu's output: float64 (approximate="none") chunk by chunk without keeping Phi, else the rule."""
    x = xs[0]
    if at["approximate"] == "none" and type(x) is np.ndarray and x.dtype == np.float64 and x.ndim:
        return gelu_kernel.values(x), None
    return _GELU_FORWARD(xs, at)


_GELU_FORWARD = RULES["gelu"].forward  # the rule this stands in for (a planted one is not replaced)


STAND_INS: dict[Any, Any] = {RULES["max_pool2d"].forward: lambda xs, at: (pool_maxima(xs[0], at), None),
                             RULES["conv2d"].forward: conv_values, _GELU_FORWARD: gelu_values}


def batched_max_pool(fwd: Any, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """numeric/batched.py's rule: the copies of the input fold into its batch (an unbatched
    (C, H, W) input's copies are one)."""
    x = xs[0]
    folded = x.reshape((-1,) + tuple(shapes[0][-3:]))
    return STAND_INS.get(fwd, fwd)((folded,), at)[0].reshape((x.shape[0],) + tuple(out))
