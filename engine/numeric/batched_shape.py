"""Batch rules of the shape and indexing ops: a leading copy axis passes through as an extra
first dim (only the float input is ever moved; index inputs are not differentiable)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .ruletools import Arr


def _lift(x: Arr, rank: int) -> Arr:
    return x.reshape((x.shape[0],) + (1,) * (rank - x.ndim + 1) + x.shape[1:])


def _unsqueeze(xs: tuple, at: dict, shape: tuple, out: tuple) -> Arr:
    return np.expand_dims(xs[0], at["dim"] % (len(shape) + 1) + 1)


def _expand(xs: tuple, at: dict, shape: tuple, out: tuple) -> Arr:
    return np.broadcast_to(_lift(xs[0], len(out)), (xs[0].shape[0],) + tuple(out))


def _repeat(xs: tuple, at: dict, shape: tuple, out: tuple) -> Arr:
    return np.tile(_lift(xs[0], len(out)), (1,) + tuple(at["repeats"]))


def _flip(xs: tuple, at: dict, shape: tuple, out: tuple) -> Arr:
    return np.flip(xs[0], tuple(d % len(shape) + 1 for d in at["dims"])) if shape else xs[0]


def _gather(xs: tuple, at: dict, shape: tuple, out: tuple) -> Arr:
    x, index = xs
    if not shape:
        return x
    grids = list(np.indices((x.shape[0],) + index.shape, sparse=True))
    grids[at["dim"] % len(shape) + 1] = index[None]
    return x[tuple(grids)]


def _index_select(xs: tuple, at: dict, shape: tuple, out: tuple) -> Arr:
    return np.take(xs[0], xs[1].reshape(-1), axis=at["dim"] % len(shape) + 1) if shape else xs[0]


def _join(fwd: Callable, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """cat / stack: unmoved inputs repeated for every copy, then the op along dim + 1."""
    copies = next(x.shape[0] for x, f in zip(xs, flags) if f)
    full = [x if f else np.broadcast_to(x, (copies,) + x.shape) for x, f in zip(xs, flags)]
    rank = len(shapes[0]) + (1 if len(out) > len(shapes[0]) else 0)
    axis = at["dim"] % max(rank, 1) + 1
    return np.stack(full, axis=axis) if len(out) > len(shapes[0]) else np.concatenate(full, axis=axis)


_RULES: dict[str, Callable[[tuple, dict, tuple, tuple], Arr]] = {
    "unsqueeze": _unsqueeze,
    "squeeze": lambda xs, at, shape, out: xs[0].reshape((xs[0].shape[0],) + tuple(out)),
    "expand": _expand,
    "repeat": _repeat,
    "flip": _flip,
    "gather": _gather,
    "index_select": _index_select,
    "index": lambda xs, at, shape, out: xs[0][:, xs[1]],
}


def _adapt(rule: Callable[[tuple, dict, tuple, tuple], Arr]) -> Callable:
    def batch_rule(fwd: Callable, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
        return rule(xs, at, tuple(shapes[0]), out)

    return batch_rule


def _embedding(fwd: Callable, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    return xs[1][:, xs[0]]


def padding_rows_unmoved(out: Arr, idx: Arr | None, pad: int, weight: Arr | None) -> Arr:
    """Positions that read the padding row keep its unmoved value in every copy: torch's
    padding_idx row is a constant of the function autograd differentiates (a weight that is not
    a leaf has no stored base value and is left as it is)."""
    if weight is None or idx is None:
        return out
    out = np.array(out)
    out[:, np.asarray(idx) == pad] = weight[pad]
    return out


def _layer_norm(fwd: Callable, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """A moved input normalizes over its last dims as it is; moved weight/bias: copy by copy."""
    if not any(flags[1:]):
        return fwd(xs, at)[0]
    count = next(x.shape[0] for x, f in zip(xs, flags) if f)
    outs = [fwd(tuple(x[b] if f else x for x, f in zip(xs, flags)), at)[0] for b in range(count)]
    return outs[0][None] if count == 1 else np.stack(outs)  # (one copy: a view, no stacking copy)


def _scatter_add(fwd: Callable, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """Copies of input (moved or repeated) with each copy's src added at the same positions."""
    x, index, src = xs
    copies = next(a.shape[0] for a, f in zip(xs, flags) if f)
    base = np.array(np.broadcast_to(x if flags[0] else x[None], (copies,) + tuple(out)))
    src = src if flags[2] else np.broadcast_to(src, (copies,) + src.shape)
    if not out:
        return base + src
    grids = list(np.indices((copies,) + index.shape, sparse=True))
    grids[at["dim"] % len(out) + 1] = index[None]
    np.add.at(base, tuple(grids), src)
    return base


SHAPE_BATCH = {op: _adapt(rule) for op, rule in _RULES.items()} | {
    "cat": _join, "stack": _join, "scatter_add": _scatter_add, "embedding": _embedding, "layer_norm": _layer_norm}
