"""SymPy forward lowering of embedding and layer_norm, from their forward definitions only:
embedding is a gather of weight rows; layer_norm is (x_i - mean) / sqrt(mean((x - mean)^2) + eps)
over each row of normalized elements, then times weight plus bias."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Group, Stage, args, elementwise, gather_only, grid, rotated_rows, rows_last
from .templates import exact_number as _num

Shapes = Sequence[Any]


def lower_embedding(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    """out[p, :] = weight[idx[p], :]. With padding_idx, torch's definition reads that row as a
    constant (it "does not contribute to the gradient"): a detached copy of the weight."""
    if ints[0] is None:
        raise NotImplementedError("embedding: the indices must be an int64 leaf for the symbolic witness")
    idx = np.asarray(ints[0])
    rows = np.ascontiguousarray(grid(shapes[1])[idx])
    if at["padding_idx"] is None:
        return [gather_only(rows, 1)]
    frozen = Stage(int(np.prod(shapes[1])), gather_only(grid(shapes[1]), 1).groups, detached=True)
    padded = np.broadcast_to((idx == at["padding_idx"])[..., None], rows.shape).reshape(-1)
    flat, positions = rows.reshape(-1, 1), np.arange(rows.size)
    groups = tuple(Group(args(1)[0], (source,), positions[where], flat[where])
                   for source, where in ((1, ~padded), (len(shapes), padded)) if where.any())
    return [frozen, Stage(rows.size, groups)]


def lower_layer_norm(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    x = tuple(shapes[0])
    k = len(at["normalized_shape"])
    rows = rows_last(x, tuple(range(len(x) - k, len(x))))
    gather, out_index = rotated_rows(rows)
    s = args(gather.shape[1])
    n = len(s)
    mean = sp.Add(*s) / n
    var = sp.Add(*[(v - mean) ** 2 for v in s]) / n
    template = (s[0] - mean) / sp.sqrt(var + _num(at["eps"]))
    stages = [Stage(len(gather), (Group(template, (0,) * n, out_index, gather),))]
    present = [i for i in (1, 2) if len(shapes) > i and shapes[i] is not None]
    if not present:
        return stages
    weight, bias = 1 in present, 2 in present

    def affine(*vals: sp.Expr) -> sp.Expr:
        out = vals[0] * vals[1] if weight else vals[0]
        return out + vals[-1] if bias else out

    stages.append(elementwise(affine, [x] + [tuple(shapes[i]) for i in present], [3] + present, x))
    return stages


def lower_dropout(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    """input * mask (the mask a constant leaf)."""
    return [elementwise(lambda a, m: a * m, [tuple(shapes[0]), tuple(shapes[1])], (0, 1), tuple(shapes[0]))]


def _fill_value(value: float) -> sp.Expr:
    return (sp.oo if value > 0 else -sp.oo) if np.isinf(value) else _num(value)


def lower_masked_fill(shapes: Shapes, at: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    """value where mask (a 0/1 value) is nonzero, else input: a constant there, so no gradient."""
    value = _fill_value(at["value"])
    pick = lambda x, m: sp.Piecewise((value, sp.Ne(m, 0)), (x, True))  # noqa: E731
    return [elementwise(pick, [tuple(shapes[0]), tuple(shapes[1])], (0, 1), tuple(shapes[0]))]


NN_LOWERING = {"masked_fill": lower_masked_fill, "dropout": lower_dropout, "embedding": lower_embedding,
               "layer_norm": lower_layer_norm}
