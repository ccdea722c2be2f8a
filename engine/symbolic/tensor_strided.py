"""Template groups whose index arrays are strided layouts, evaluated on numpy views.

A template step (tensor.py) reads each placeholder's column with a gather index and scatters
its adjoint back with a bincount. The gathers of most ops are regular: an elementwise stage
reads element e, a row stage reads "the row of e" (``repeat(arange(m), k)``), an affine stage
reads "the feature of e" (``tile(arange(k), m)``), a transpose or slice reads a permuted or
strided grid. Each such index array is ``offset + sum_d i_d * stride_d`` over one grid shared
by the group's columns (stride 0: the same element read along that axis). Found once per step
(the index arrays are checked element by element against the layout), a column is then a
strided view of its buffer — no gathered copy — and an adjoint is summed over the column's
stride-0 axes and written through the view (the layout is checked one-to-one there) — no
bincount. The templates and their SymPy partials are the same; only the index plumbing differs
(sums may round in another order: a few ulps).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .undefined import times

MAX_COLUMNS = 8  # wider groups (a whole row per template) keep their gathers
Layout = tuple[int, tuple[int, ...]]  # offset, strides (in elements) over the group's grid


def _runs(index: np.ndarray, cut: int) -> list[tuple[int, int]] | None:
    """(size, stride) per axis, innermost first, whose product is len(index), each axis an
    arithmetic run of the index (greedy: the longest that divides what is left); ``cut`` (if
    nonzero) is an axis boundary. None when no run fits (the caller verifies the layout)."""
    n, block, axes = len(index), 1, []
    while block < n:
        seq = index[::block]
        step = int(seq[1] - seq[0])
        run = _run_length(seq, step)
        room = len(seq)
        if block < cut:
            if cut % block:
                return None
            room = cut // block
        size = _divisor_at_most(room, run)
        if size == 1:
            return None
        axes.append((size, step))
        block *= size
    return axes


def _run_length(seq: np.ndarray, step: int) -> int:
    """How many leading elements of ``seq`` lie on the line seq[0] + p step, by doubling p and
    bisecting (O(log n) reads: a wrong guess only fails the layout's element-by-element check)."""
    n, first = len(seq), int(seq[0])

    def on(p: int) -> bool:
        return int(seq[p]) - first == p * step

    lo, hi = 1, 2
    while hi < n and on(hi):
        lo, hi = hi, hi * 2
    if hi >= n:
        if on(n - 1):
            return n
        hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if on(mid) else (lo, mid)
    return lo + 1


def _divisor_at_most(n: int, bound: int) -> int:
    """The largest divisor of n that is <= bound."""
    if bound >= n:
        return n
    best, d = 1, 1
    while d * d <= n:
        if n % d == 0:
            best = max([best] + [x for x in (d, n // d) if x <= bound])
        d += 1
    return best


def _refine(all_runs: list[list[tuple[int, int]]], cut: int) -> tuple[tuple[int, ...], list[tuple[int, ...]]] | None:
    """One grid (C order) on which every column's runs are axes (split where another column's
    axis ends), and each column's strides on it; None if the boundaries do not nest. Neighbouring
    axes every column walks contiguously are merged, except across ``cut``."""
    bounds = sorted({b for runs in all_runs for b in np.cumprod([1] + [s for s, _ in runs]).tolist()})
    if any(b % a for a, b in zip(bounds, bounds[1:])):
        return None
    strides = []
    for runs in all_runs:
        starts = np.cumprod([1] + [s for s, _ in runs]).tolist()
        per = []
        for lo in bounds[:-1]:
            k = max(i for i in range(len(runs)) if starts[i] <= lo)
            per.append(runs[k][1] * (lo // starts[k]))
        strides.append(per)
    sizes = [b // a for a, b in zip(bounds, bounds[1:])]
    keep = [0]
    for d in range(1, len(sizes)):
        if bounds[d] != cut and all(st[d] == st[keep[-1]] * sizes[keep[-1]] for st in strides):
            sizes[keep[-1]] *= sizes[d]
        else:
            keep.append(d)
    return tuple(sizes[d] for d in reversed(keep)), [tuple(st[d] for d in reversed(keep)) for st in strides]


_ARANGE = [np.arange(0, dtype=np.int64)]


def _indices(offset: int, shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """The index array of a layout, as a read-only strided view of one shared arange."""
    reach = offset + sum((n - 1) * st for n, st in zip(shape, strides)) + 1
    if len(_ARANGE[0]) < reach:
        grown = np.arange(max(reach, 2 * len(_ARANGE[0])), dtype=np.int64)
        grown.flags.writeable = False
        _ARANGE[0] = grown
    return view(_ARANGE[0], (offset, strides), shape)


def _one_to_one(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Whether the layout without its stride-0 axes reaches each element at most once: each
    stride, smallest first, exceeds the span of the smaller ones (sufficient; a layout this
    misses keeps its gathers)."""
    span = 0
    for stride, size in sorted((st, n) for n, st in zip(shape, strides) if st and n > 1):
        if stride <= span:
            return False
        span += (size - 1) * stride
    return True


def layouts(indexes: list[np.ndarray], cut: int = 0) -> tuple[tuple[int, ...], list[Layout]] | None:
    """A common grid for these equally long, non-negative index arrays and each one's layout on
    it, checked element by element; None when they are not all strided with non-negative strides.
    ``cut``: an axis boundary every layout must have (the placeholder axis of a row template)."""
    if not indexes or len(indexes[0]) < 2:
        return None
    found = [_runs(ix, cut) for ix in indexes]
    if any(r is None or any(st < 0 for _, st in r) for r in found):
        return None
    grid = _refine(found, cut)  # type: ignore[arg-type]
    if grid is None:
        return None
    shape, strides = grid
    if cut and cut not in np.cumprod([1] + list(reversed(shape))).tolist():
        return None
    out = []
    for ix, st in zip(indexes, strides):
        offset = int(ix[0])
        if not np.array_equal(_indices(offset, shape, st), ix.reshape(shape)):
            return None
        out.append((offset, st))
    return shape, out


def view(buffer: np.ndarray, layout: Layout, shape: tuple[int, ...]) -> np.ndarray:
    """The elements ``layout`` reads from the 1-D ``buffer``, as a (writeable) strided view."""
    offset, strides = layout
    unit = buffer.strides[0]
    return as_strided(buffer[offset:], shape, tuple(s * unit for s in strides))


@dataclass(frozen=True)
class StridedGroup:
    """A template group on views: its grid, where its output goes and where each column reads."""

    shape: tuple[int, ...]
    out: Layout
    columns: tuple[Layout, ...]
    summed: tuple[tuple[int, ...], ...]  # per column: the stride-0 axes its adjoint is summed over
    linear_rows: int = 0  # a one-source linear template: rows (the placeholders are the inner axes)
    direct: tuple[bool, ...] = field(init=False)
    kept: tuple[tuple[int, ...], ...] = field(init=False)

    def __post_init__(self) -> None:
        """Per column: whether it reads its whole buffer in order (its adjoint is the grid's, flat),
        and its view's shape (1 along its stride-0 axes: numpy broadcasts it, and a function of
        the column alone — a row's 1/sqrt(var + eps) — is computed once per row, not per element)."""
        object.__setattr__(self, "direct", tuple(
            offset == 0 and not summed and strides == _c_strides(self.shape)
            for (offset, strides), summed in zip(self.columns, self.summed)))
        object.__setattr__(self, "kept", tuple(tuple(1 if st == 0 else n for n, st in zip(self.shape, strides))
                                               for _, strides in self.columns))

    def gather(self, buffers: list[Any], sources: tuple[int, ...]) -> list[np.ndarray]:
        return [view(buffers[s], c, kept) for s, c, kept in zip(sources, self.columns, self.kept)]

    def scatter(self, j: int, values: np.ndarray, size: int, owned: bool = False) -> np.ndarray:
        """Column ``j``'s adjoint (``values`` on the grid), a new flat array of the source's ``size``.
        ``owned``: ``values`` is a new array nobody else holds (it may be returned as it is)."""
        if self.direct[j] and owned and values.shape == self.shape and values.size == size \
                and values.flags.c_contiguous:  # already in the buffer's order
            return values.reshape(-1)
        values = np.broadcast_to(values, self.shape)
        if self.summed[j]:
            values = values.sum(axis=self.summed[j], keepdims=True)
        offset, strides = self.columns[j]
        kept = self.kept[j]
        out = np.empty(size) if int(np.prod(kept)) == size else np.zeros(size)  # one-to-one: all reached
        view(out, (offset, strides), kept)[...] = values
        return out

    def linear_forward(self, buffer: np.ndarray, weights: np.ndarray, base: float) -> np.ndarray:
        """A one-source linear template: each row of the view times the weights."""
        return view(buffer, self.columns[0], self.shape).reshape(self.linear_rows, -1) @ weights + base

    def linear_backward(self, upstream: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
        rows = np.multiply.outer(np.broadcast_to(upstream, (self.linear_rows,)), weights)
        return self.scatter(0, rows.reshape(self.shape), size, owned=True)


def plan(group: Any, linear_one_source: bool) -> StridedGroup | None:
    """The group on views, or None (it keeps its gathers)."""
    gather, n = group.gather, len(group.out_index)
    if linear_one_source:
        if gather.shape[1] < 2 or not _arange(group.out_index):
            return None
        found = layouts([gather.reshape(-1)], cut=gather.shape[1])
        if found is None or not _one_to_one(found[0], found[1][0][1]):
            return None
        shape, (column,) = found
        return StridedGroup(shape, (0, ()), (column,), (_zero_axes(column),), linear_rows=n)
    if gather.shape[1] > MAX_COLUMNS:
        return None
    found = layouts([group.out_index] + [gather[:, j] for j in range(gather.shape[1])])
    if found is None:
        return None
    shape, (out, *columns) = found
    if not _one_to_one(shape, out[1]) or 0 in out[1] or not all(_one_to_one(shape, c[1]) for c in columns):
        return None
    return StridedGroup(shape, out, tuple(columns), tuple(_zero_axes(c) for c in columns))


def _c_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape)))


def _zero_axes(layout: Layout) -> tuple[int, ...]:
    return tuple(d for d, st in enumerate(layout[1]) if st == 0)


def _arange(index: np.ndarray) -> bool:
    return bool(len(index) and index[0] == 0 and (np.diff(index) == 1).all())


class StridedTape(tuple):
    """A template step's tape (buffers, columns) whose strided groups hold views."""


def plan_step(stages: list[Any], compiled: list[list[Any]]) -> list[list[StridedGroup | None]]:
    """Per stage and group: its strided form, or None."""
    from .tensor_linear import one_source

    return [[plan(g, one_source(g, vt)) for g, vt in zip(st.groups, comp)] for st, comp in zip(stages, compiled)]


def strided_forward(sg: StridedGroup, group: Any, vt: Any, buffers: list[Any], out: np.ndarray) -> list[Any]:
    """Fill the group's part of the stage buffer ``out``; the columns its partials will read."""
    if sg.linear_rows:
        out[:sg.linear_rows] = sg.linear_forward(buffers[group.sources[0]], vt.weights, vt.base)
        return []
    cols = sg.gather(buffers, group.sources)
    view(out, sg.out, sg.shape)[...] = vt.forward(*cols)  # a constant template broadcasts
    return cols


def strided_backward(sg: StridedGroup, group: Any, vt: Any, cols: list[Any], stage_adjoint: np.ndarray,
                     buffers: list[Any], n_in: int, wants: list[bool]) -> list[tuple[int, np.ndarray]]:
    """Each source buffer's adjoint contribution from the group (inputs not wanted are skipped)."""
    if sg.linear_rows:
        src = group.sources[0]
        if src < n_in and not wants[src]:
            return []
        return [(src, sg.linear_backward(stage_adjoint[:sg.linear_rows], vt.weights, len(buffers[src])))]
    upstream = view(stage_adjoint, sg.out, sg.shape)
    partials = vt.gradient(*cols) if cols else []
    product = times if getattr(vt, "piecewise", False) else operator.mul
    return [(src, _contribution(sg, j, upstream, partials[j], len(buffers[src]), product))
            for j, src in enumerate(group.sources) if src >= n_in or wants[src]]


def _contribution(sg: StridedGroup, j: int, upstream: np.ndarray, partial: Any, size: int,
                  product: Callable[[Any, Any], Any] = operator.mul) -> np.ndarray:
    """upstream * partial scattered to column j's buffer; a partial of +-1 on a summed column is
    applied after the sum (exact: no product pass over the grid)."""
    if sg.summed[j] and isinstance(partial, (int, float, np.number)) and abs(partial) == 1:
        found = sg.scatter(j, upstream, size)
        return found if partial == 1 else np.negative(found, out=found)
    return sg.scatter(j, product(upstream, partial), size, owned=True)
