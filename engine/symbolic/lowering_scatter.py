"""SymPy forward lowering of scatter_add: out[e] = input[e] + the src elements whose index
names e. Output elements are grouped by how many src elements land on them, one template
``s0 + s1 + ... + sk`` per count, so sympy.diff sees each sum once (derivatives: 1 each)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .lowering_shape import _gather
from .templates import Group, Stage, args, elementwise, grid


def lower_scatter_add(shapes: Sequence[Any], at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    x = tuple(shapes[0])
    if not x:
        return [elementwise(lambda a, b: a + b, [(), ()], (0, 2), ())]
    if ints[1] is None:
        raise NotImplementedError("scatter_add: the index must be an int64 leaf for the symbolic witness")
    target = _gather(grid(x), np.asarray(ints[1]), at).reshape(-1)  # per src element, where it lands
    size = int(np.prod(x, dtype=np.int64))
    counts = np.bincount(target, minlength=size)
    order = np.argsort(target, kind="stable")  # src elements grouped by target
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    groups = []
    for k in np.unique(counts).tolist():
        outs = np.flatnonzero(counts == k)
        cols = [outs] + [order[starts[outs] + j] for j in range(k)]
        groups.append(Group(sp.Add(*args(k + 1)), (0,) + (2,) * k, outs, np.stack(cols, axis=1)))
    return [Stage(size, tuple(groups))]
