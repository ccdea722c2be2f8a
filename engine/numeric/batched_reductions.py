"""Finite-difference batch rules of the part-A reductions (issue 11): a leading copy axis passes
through each op's own forward, its dims shifted past that axis."""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules import reduced_dims
from .ruletools import Arr


def shifted_dims(fwd: Any, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """logsumexp, amax, amin, var, std, norm: the same reduction over dims + 1."""
    dims = tuple(d + 1 for d in reduced_dims(at["dim"], len(shapes[0])))
    return fwd(xs, {**at, "dim": dims})[0]


def one_dim(fwd: Any, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """max, min, prod: every element of a copy (its values flattened), or dim + 1."""
    n = len(shapes[0])
    if at["dim"] is None or n == 0:
        return fwd((xs[0].reshape(xs[0].shape[0], -1),), {**at, "dim": 1, "keepdim": False})[0]
    return fwd(xs, {**at, "dim": at["dim"] % n + 1})[0]


def cumsum(fwd: Any, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    n = len(shapes[0])
    return xs[0] if n == 0 else np.cumsum(xs[0], axis=at["dim"] % n + 1)


BATCH_RULES = {**{op: shifted_dims for op in ("logsumexp", "amax", "amin", "var", "std", "norm")},
               **{op: one_dim for op in ("max", "min", "prod")}, "cumsum": cumsum}
