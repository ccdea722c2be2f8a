"""Numeric forward and hand-written VJP of scatter_add (engine/scatter_specs.py), and the
scatter helpers the VJPs of gather, index_select, x[idx] and embedding are written with.

scatter_add and gather are each other's adjoints: d scatter_add / d src is a gather of g and
d gather / d input a scatter_add of g into zeros, so under create_graph the pair closes and
every order is recorded with catalogue ops (no np.add.at on a recorded tensor)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .ruletools import Arr, Rule, call, data, traced


def gather_where(index: Arr, dim: int) -> tuple:
    """The input positions gather reads: index along dim, the element's own position elsewhere."""
    grids: list[Any] = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _scatter_add(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x, index, src = xs
    if src.shape != index.shape:  # np.add.at would broadcast; dispatch turns this into a ShapeError
        raise ValueError("scatter_add: src and index shapes differ")
    if not x.ndim:
        return x + src, index
    out = x.copy()
    np.add.at(out, gather_where(index, at["dim"] % x.ndim), src)
    return out, index


def _scatter_add_vjp(g: Arr, index: Arr, node: Any) -> tuple:
    """d input = g; d src = g gathered at the positions src was added to."""
    needs = node.needs
    gsrc = None
    if needs[2]:
        gsrc = g if not g.ndim else call("gather", g, index, dim=node.attrs["dim"])
    return (g if needs[0] else None), None, gsrc


def scatter_rows(g: Arr, rows: Arr, shape: tuple) -> Arr:
    """Zeros of ``shape`` with the leading-axis slices of ``g`` (one per entry of the int array
    ``rows``, in order) added at rows ``rows`` (repeats add up): the VJP of x[rows]."""
    flat = np.asarray(data(rows)).reshape(-1) % shape[0]
    g = g.reshape((flat.size,) + tuple(shape[1:]))
    if not traced(g):
        return add_rows(g, flat, shape)
    index = np.broadcast_to(flat.reshape((-1,) + (1,) * (len(shape) - 1)), g.shape)
    return call("scatter_add", np.zeros(shape, g.dtype), index, g, dim=0)


def add_rows(g: Arr, flat: Arr, shape: tuple) -> Arr:
    """Zeros of ``shape`` plus g[i] at row flat[i], each row summed in the order of i (as
    np.add.at and torch's embedding backward add), vectorized over the k-th repeats of a row."""
    out = np.zeros(shape, g.dtype)
    if not flat.size:
        return out
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
    rank = np.arange(flat.size) - np.repeat(starts, np.diff(np.append(starts, flat.size)))
    repeats = int(rank.max()) + 1
    if repeats > _MAX_REPEATS:
        np.add.at(out, flat, g)
        return out
    for k in range(repeats):
        pick = order[rank == k]  # the k-th occurrence of each row: distinct rows, so += adds once
        out[flat[pick]] += g[pick]
    return out


_MAX_REPEATS = 64  # beyond this many repeats of one row, np.add.at (same order) is the faster loop


SCATTER_RULES: dict[str, Rule] = {"scatter_add": Rule(_scatter_add, _scatter_add_vjp)}
