"""SymPy forward lowering of the shape and indexing ops: each output element is one input
element, so every op is a gather of the input's index grid (derivatives by sympy.diff of the
identity template; repeated reads add up in the adjoint). Index ops read the int64 index leaf."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .templates import Group, Stage, args, gather_only, grid

Shapes = Sequence[Any]
Ints = Sequence[np.ndarray | None]


def _squeeze(g: np.ndarray, at: dict) -> np.ndarray:
    if at["dim"] is None:
        return g.reshape(tuple(n for n in g.shape if n != 1))
    d = at["dim"] % max(g.ndim, 1)
    return np.squeeze(g, d) if g.ndim and g.shape[d] == 1 else g


def _expand(g: np.ndarray, at: dict) -> np.ndarray:
    lead = len(at["size"]) - g.ndim
    return np.broadcast_to(g, tuple(g.shape[i - lead] if n == -1 else n for i, n in enumerate(at["size"])))


def _gather(g: np.ndarray, index: np.ndarray, at: dict) -> np.ndarray:
    if not g.ndim:
        return g
    dim = at["dim"] % g.ndim
    grids: list[Any] = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return g[tuple(grids)]


def _index_select(g: np.ndarray, index: np.ndarray, at: dict) -> np.ndarray:
    return np.take(g, index.reshape(-1), axis=at["dim"] % g.ndim) if g.ndim else g


_PLAIN: dict[str, Callable[[np.ndarray, dict], np.ndarray]] = {
    "unsqueeze": lambda g, at: np.expand_dims(g, at["dim"] % (g.ndim + 1)),
    "squeeze": _squeeze,
    "expand": _expand,
    "repeat": lambda g, at: np.tile(g, at["repeats"]),
    "flip": lambda g, at: np.flip(g, tuple(at["dims"])) if g.ndim else g,
}
_INDEXED: dict[str, Callable[[np.ndarray, np.ndarray, dict], np.ndarray]] = {
    "gather": _gather,
    "index_select": _index_select,
    "index": lambda g, index, at: g[index],
}


def _join(shapes: Shapes, at: dict, new_dim: bool) -> list[Stage]:
    """cat / stack: output element e reads element e' of input k (one group per input)."""
    pieces = [grid(s) for s in shapes]
    if new_dim:
        d = at["dim"] % (len(shapes[0]) + 1)
        pieces = [np.expand_dims(p, d) for p in pieces]
    else:
        d = at["dim"] % len(shapes[0])
    where = np.concatenate([np.full(p.shape, k) for k, p in enumerate(pieces)], axis=d).reshape(-1)
    groups = tuple(Group(args(1)[0], (k,), np.flatnonzero(where == k), np.ascontiguousarray(p).reshape(-1, 1))
                   for k, p in enumerate(pieces))
    return [Stage(len(where), groups)]


def lower_shape(op: str, shapes: Shapes, attrs: dict, ints: Ints) -> list[Stage]:
    """The one gather stage of a shape or indexing op."""
    if op in ("cat", "stack"):
        return _join(shapes, attrs, op == "stack")
    g = grid(shapes[0])
    if op in _PLAIN:
        return [gather_only(np.ascontiguousarray(_PLAIN[op](g, attrs)), 0)]
    index = ints[1]
    if index is None:
        raise NotImplementedError(f"{op}: the index must be an int64 leaf for the symbolic witness")
    return [gather_only(np.ascontiguousarray(_INDEXED[op](g, np.asarray(index), attrs)), 0)]


SHAPE_OPS = tuple(_PLAIN) + tuple(_INDEXED) + ("cat", "stack")
