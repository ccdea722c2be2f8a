"""Numeric forward and hand-written VJP of the shape and indexing ops (engine/shape_specs.py).

Shape-only VJPs save nothing; gather / index_select / index save only their int64 index (the
gradient is a scatter_add of g into zeros of the input's shape: repeated indices add up; a
catalogue op, so the VJPs record under create_graph).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules_scatter import gather_where, scatter_rows
from .ruletools import Arr, Rule, call, data, unbroadcast


def _shape_only(fwd: Any, vjp: Any) -> Rule:
    return Rule(lambda xs, at: (fwd(xs[0], at), None), lambda g, saved, node: (vjp(g, node.shapes[0], node.attrs),))


def _unsqueeze(x: Arr, at: dict) -> Arr:
    return np.expand_dims(x, at["dim"] % (x.ndim + 1))


def _squeeze(x: Arr, at: dict) -> Arr:
    if at["dim"] is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    if x.ndim == 0:
        return x
    d = at["dim"] % x.ndim
    return np.squeeze(x, d) if x.shape[d] == 1 else x


def _expand(x: Arr, at: dict) -> Arr:
    lead = len(at["size"]) - x.ndim
    size = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(at["size"]))
    return np.broadcast_to(x, size)


def _repeat(x: Arr, at: dict) -> Arr:
    return np.tile(x, at["repeats"])


def _repeat_vjp(g: Arr, shape: tuple, at: dict) -> Arr:
    """d tile: each input element receives the sum of its copies (g split as (r0, s0, r1, s1, ...))."""
    reps = tuple(at["repeats"])
    full = (1,) * (len(reps) - len(shape)) + tuple(shape)
    split = tuple(v for pair in zip(reps, full) for v in pair)
    return g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(shape)


def _flip(x: Arr, at: dict) -> Arr:
    return np.flip(x, tuple(at["dims"])) if x.ndim else x


def _gather(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x, index = xs
    if x.ndim == 0:
        return x.copy(), index
    return x[gather_where(index, at["dim"] % x.ndim)], index


def _gather_vjp(g: Arr, index: Arr, node: Any) -> tuple:
    """A scatter_add of g into zeros of the input's shape (torch's GatherBackward)."""
    shape = node.shapes[0]
    if not shape:
        return g, None
    return call("scatter_add", np.zeros(shape, g.dtype), index, g, dim=node.attrs["dim"]), None


def _index_select(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x, index = xs
    if x.ndim == 0:
        return x.copy(), index
    return np.take(x, index.reshape(-1), axis=at["dim"] % x.ndim), index


def _index_select_vjp(g: Arr, index: Arr, node: Any) -> tuple:
    """A scatter_add along dim of g into zeros, with the 1-D index spread over g's shape."""
    shape = node.shapes[0]
    if not shape:
        return g, None
    dim = node.attrs["dim"] % len(shape)
    picks = np.asarray(data(index)).reshape([-1 if d == dim else 1 for d in range(len(shape))])
    return call("scatter_add", np.zeros(shape, g.dtype), np.broadcast_to(picks, g.shape), g, dim=dim), None


def _index(xs: tuple, at: dict) -> tuple[Arr, Any]:
    return xs[0][xs[1]], xs[1]


def _index_vjp(g: Arr, index: Arr, node: Any) -> tuple:
    """d x[idx]: rows of g added back at the rows idx names (repeats add up)."""
    return scatter_rows(g, index, node.shapes[0]), None


def _cat_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """d cat: each input gets its own slab of g along dim."""
    dim = node.attrs["dim"] % g.ndim
    cuts = np.cumsum([s[dim] for s in node.shapes])[:-1]
    return tuple(piece if need else None for piece, need in zip(np.split(g, cuts, axis=dim), node.needs))


def _stack_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """d stack: input k gets g at position k of the new dim."""
    dim = node.attrs["dim"] % g.ndim
    return tuple(np.take(g, k, axis=dim) if need else None for k, need in enumerate(node.needs))


SHAPE_RULES: dict[str, Rule] = {
    "cat": Rule(lambda xs, at: (np.concatenate(xs, axis=at["dim"]), None), _cat_vjp),
    "stack": Rule(lambda xs, at: (np.stack(xs, axis=at["dim"] % (xs[0].ndim + 1)), None), _stack_vjp),
    "unsqueeze": _shape_only(_unsqueeze, lambda g, shape, at: g.reshape(shape)),
    "squeeze": _shape_only(_squeeze, lambda g, shape, at: g.reshape(shape)),
    "expand": _shape_only(_expand, lambda g, shape, at: unbroadcast(g, tuple(shape))),
    "repeat": _shape_only(_repeat, _repeat_vjp),
    "flip": _shape_only(_flip, lambda g, shape, at: _flip(g, at)),
    "gather": Rule(_gather, _gather_vjp),
    "index_select": Rule(_index_select, _index_select_vjp),
    "index": Rule(_index, _index_vjp),
}
