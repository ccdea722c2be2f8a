"""Where the part-A ops of issue 11 sit on a kink (their catalogue ``kink`` conventions): the
verdict then accepts any value between the one-sided derivatives (check.kinks_present)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _reduced(x: np.ndarray, at: dict) -> tuple[int, ...]:
    dim = at.get("dim")
    if dim is None or not x.ndim:
        return tuple(range(x.ndim))
    return tuple(d % x.ndim for d in ((dim,) if isinstance(dim, int) else dim))


def _tie(extreme: Callable[..., np.ndarray]) -> Callable[[list[np.ndarray], dict], bool]:
    """Two or more elements of one reduced row equal to its extreme."""
    def on(ins: list[np.ndarray], at: dict) -> bool:
        x = ins[0]
        dims = _reduced(x, at)
        hits = (x == extreme(x, axis=dims, keepdims=True)).sum(axis=dims)
        return bool((hits > 1).any())

    return on


def _bounds(lo: str, hi: str) -> Callable[[list[np.ndarray], dict], bool]:
    def on(ins: list[np.ndarray], at: dict) -> bool:
        return bool(any((ins[0] == at[b]).any() for b in (lo, hi) if at[b] is not None))

    return on


ON_KINK: dict[str, Callable[[list[np.ndarray], dict[str, Any]], bool]] = {
    "clamp": _bounds("min", "max"),
    "hardtanh": _bounds("min_val", "max_val"),
    "leaky_relu": lambda ins, at: bool((ins[0] == 0).any()),
    "elu": lambda ins, at: at["alpha"] != 1.0 and bool((ins[0] == 0).any()),
    "amax": _tie(np.amax), "max": _tie(np.amax),
    "amin": _tie(np.amin), "min": _tie(np.amin),
    "norm": lambda ins, at: at["p"] == 1.0 and bool((ins[0] == 0).any()),
}
