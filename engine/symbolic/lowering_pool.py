"""SymPy forward lowering of pooling and batch normalization from their forward definitions:
a window's Max / Sum over divisor over the in-range elements (padding is outside every window's
element list), adaptive pooling over torch's floor/ceil ranges, batch norm as per-channel mean,
biased variance and the normalized affine output. Derivatives come only from ``sympy.diff``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..pool_specs import adaptive_rows, avg_divisor, planes, pool_geometry
from .lowering_conv import _window_gather
from .templates import Group, Stage, args, grid, reduce_rows, rows_last
from .templates import exact_number as _num

Shapes = Sequence[Any]


def _ragged(rows: np.ndarray, divisors: np.ndarray | None, make: Callable[[int, Any], sp.Expr]) -> Stage:
    """out[m] = make(count, divisor)(valid entries of rows[m]); rows hold -1 where no element is."""
    valid = rows >= 0
    order = np.argsort(~valid, axis=1, kind="stable")
    packed = np.take_along_axis(rows, order, axis=1)
    counts = valid.sum(axis=1)
    keys = counts.astype(float) if divisors is None else counts * 1e6 + divisors
    groups = []
    for key in np.unique(keys):
        members = np.nonzero(keys == key)[0]
        count = int(counts[members[0]])
        divisor = None if divisors is None else float(divisors[members[0]])
        groups.append(Group(make(count, divisor), (0,) * count, members, packed[members, :count]))
    return Stage(len(rows), tuple(groups))


def _pool_rows(x: tuple, at: dict) -> tuple[np.ndarray, list, list, list, list]:
    kernel, stride, pad, dil, out = pool_geometry("pool", x, at)
    highs = [max(0, (out[d] - 1) * stride[d] + dil[d] * (kernel[d] - 1) + 1 - x[2 + d] - pad[d]) for d in range(2)]
    gp = np.pad(grid(x), [(0, 0), (0, 0), (pad[0], highs[0]), (pad[1], highs[1])], constant_values=-1)
    win = _window_gather(gp, tuple(out), tuple(kernel), tuple(stride), tuple(dil))
    return win.reshape(-1, kernel[0] * kernel[1]), kernel, stride, pad, out


def lower_max_pool(shapes: Shapes, at: dict) -> list[Stage]:
    rows = _pool_rows(tuple(shapes[0]), at)[0]
    return [_ragged(rows, None, lambda n, _: sp.Max(*args(n)))]


def lower_avg_pool(shapes: Shapes, at: dict) -> list[Stage]:
    """sum of the window's real elements / torch's divisor (count_include_pad counts the zeros)."""
    x = tuple(shapes[0])
    rows, kernel, stride, pad, out = _pool_rows(x, {**at, "dilation": (1, 1)})
    div = np.broadcast_to(avg_divisor(x, at, kernel, stride, pad, out), (x[0], x[1]) + tuple(out)).reshape(-1)
    return [_ragged(rows, div, lambda n, d: sp.Add(*args(n)) / _num(d))]


def lower_adaptive_avg(shapes: Shapes, at: dict) -> list[Stage]:
    rows = adaptive_rows(tuple(shapes[0]), at["output_size"])
    return [_ragged(rows, None, lambda n, _: sp.Add(*args(n)) / n)]


def lower_adaptive_max(shapes: Shapes, at: dict) -> list[Stage]:
    rows = adaptive_rows(tuple(shapes[0]), at["output_size"])
    return [_ragged(rows, None, lambda n, _: sp.Max(*args(n)))]


def lower_batch_norm(shapes: Shapes, at: dict) -> list[Stage]:
    """training: mean_c, var_c = mean((x - mean_c)^2); out = (x - mean_c) / sqrt(var_c + eps) w_c + b_c."""
    x = tuple(shapes[0])
    n_in, channels = len(shapes), x[1]
    stages: list[Stage] = []
    if at["training"]:
        rows = rows_last(x, (0,) + tuple(range(2, len(x))))  # (C, M)
        m = rows.shape[1]
        stages.append(reduce_rows(rows, 0, lambda s: sp.Add(*s) / len(s)))
        s = args(m + 1)
        var = sp.Add(*[(s[i] - s[m]) ** 2 for i in range(m)]) / m
        gather = np.concatenate([rows, np.arange(channels)[:, None]], axis=1)
        stages.append(Stage(channels, (Group(var, (0,) * m + (n_in,), np.arange(channels), gather),)))
        mean_src, var_src = n_in, n_in + 1
    else:
        mean_src, var_src = 1, 2
    chan = np.broadcast_to(np.arange(channels).reshape((1, -1) + (1,) * (len(x) - 2)), x).reshape(-1)
    cols = [grid(x).reshape(-1), chan, chan]
    sources = [0, mean_src, var_src]
    for pos in (3, 4):
        if shapes[pos] is not None:
            cols.append(chan)
            sources.append(pos)
    s = args(len(cols))
    out = (s[0] - s[1]) / sp.sqrt(s[2] + _num(at["eps"]))
    if shapes[3] is not None:
        out = out * s[3]
    if shapes[4] is not None:
        out = out + s[len(cols) - 1]
    size = len(cols[0])
    stages.append(Stage(size, (Group(out, tuple(sources), np.arange(size), np.stack(cols, axis=1)),)))
    return stages


def _planes(lower: Callable[[Shapes, dict], list[Stage]]) -> Callable[[Shapes, dict], list[Stage]]:
    """An unbatched (C, H, W) input lowered as (1, C, H, W): the same flat layout, per plane."""
    return lambda shapes, at: lower([planes(shapes[0]), *shapes[1:]], at)


POOL_LOWERING = {
    "max_pool2d": _planes(lower_max_pool), "avg_pool2d": _planes(lower_avg_pool),
    "adaptive_avg_pool2d": _planes(lower_adaptive_avg), "adaptive_max_pool2d": _planes(lower_adaptive_max),
    "batch_norm": lower_batch_norm,
}
