"""Stand-ins for forward rules when only the output value is wanted (plain forward evaluations:
finite differences, kink tests, the forward check), bit for bit the rule's output.

max_pool2d's rule also finds each window's first maximum, the index its VJP reads. Its stand-in
takes the maxima tap by tap on strided views of the input (no window copy):
``np.maximum(tap, best)`` keeps ``best`` on a tie, so each value is the window's first maximum
bit for bit (-0.0 and 0.0 included) and a NaN wins, as in the rule. A stand-in replaces exactly
the rule it was written for: ``STAND_INS`` is keyed by that forward function, so a rule swapped
in the table (a planted bug in a test) runs as itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pool_specs import planes, pool_geometry
from .rules import RULES
from .rules_conv import windows
from .rules_pool import _pads
from .ruletools import Arr


def _taps(x: Arr, at: dict) -> tuple[Arr, list[tuple[int, ...]]]:
    """The (N, C, *out, *kernel) window view of max_pool2d's -inf padded input, and its taps."""
    kernel, stride, pad, dil, out = pool_geometry("max_pool2d", x.shape, at)
    pads = _pads(x.shape, kernel, stride, pad, dil, out)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads, constant_values=-np.inf) if any(map(any, pads)) else x
    return windows(xp, tuple(kernel), tuple(out), tuple(stride), tuple(dil)), list(np.ndindex(*kernel))


def _maxima(win: Arr, taps: list[tuple[int, ...]]) -> Arr:
    best = win[..., 0, 0].copy()
    for p, q in taps[1:]:
        np.maximum(win[..., p, q], best, out=best)
    return best


def pool_maxima(x: Arr, at: dict) -> Arr:
    """max_pool2d's values: each window's maximum (a (C, H, W) input is one sample)."""
    y = _maxima(*_taps(x.reshape(planes(x.shape)), at))
    return y.reshape(y.shape[1:]) if x.ndim == 3 else y


def tied_windows(x: Arr, at: dict) -> bool:
    """Whether some window holds its finite maximum at two taps (max_pool2d's kink)."""
    win, taps = _taps(x.reshape(planes(x.shape)), at)
    best = _maxima(win, taps)
    hits = np.zeros(best.shape, np.uint8 if len(taps) < 255 else np.int32)
    for p, q in taps:
        hits += win[..., p, q] == best
    return bool(np.any((hits > 1) & np.isfinite(best)))


STAND_INS: dict[Any, Any] = {RULES["max_pool2d"].forward: lambda xs, at: (pool_maxima(xs[0], at), None)}


def batched_max_pool(fwd: Any, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """numeric/batched.py's rule: the copies of the input fold into its batch (an unbatched
    (C, H, W) input's copies are one)."""
    x = xs[0]
    folded = x.reshape((-1,) + tuple(shapes[0][-3:]))
    return STAND_INS.get(fwd, fwd)((folded,), at)[0].reshape((x.shape[0],) + tuple(out))
