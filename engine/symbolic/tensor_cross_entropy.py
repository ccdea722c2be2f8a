"""The tensor tier's cross_entropy with class weights and label smoothing, shifted by the row max.

The same forward definition as cross_entropy.py (the exact tier's): per sample i with target t,
lse_i = log(sum_c exp(x_ic)), nll_i = w_t (lse_i - x_it), smooth_i = sum_c w_c (lse_i - x_ic),
loss_i = (1 - e) nll_i + (e / C) smooth_i, 0 for an ignored sample; 'mean' divides by the sum of
w_t over the samples not ignored. Written in stages, with lse_i = m_i + log(sum_c exp(x_ic - m_i)),
m_i the row max held constant (tensor_shift.py: the same function for any constant m), and
smooth_i = W lse_i - sum_c w_c x_ic, W = sum_c w_c: logits past exp's float64 overflow (x ~ 1e3)
stay finite, and no template holds a whole row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Group, Stage, args, grid, reduce_rows
from .templates import exact_number as _num

Shapes = Sequence[Any]


def _row_dot(rows: np.ndarray, weighted: bool) -> Stage:
    """sum_c w_c x_ic per row (the plain row sum without weights): one dot-product template."""
    n, classes = rows.shape
    if not weighted:
        return reduce_rows(rows, 0, lambda xs: sp.Add(*xs))
    s = args(2 * classes)
    template = sp.Add(*[a * b for a, b in zip(s[:classes], s[classes:])])
    gather = np.concatenate([rows, np.broadcast_to(np.arange(classes), (n, classes))], axis=1)
    return Stage(n, (Group(template, (0,) * classes + (2,) * classes, np.arange(n), gather),))


def _per_sample(x: tuple[int, int], t: np.ndarray, at: dict, weighted: bool, first: int) -> Stage:
    """Stage ``first``+3 (+4 with weights): each sample's loss from the row's m, sum(exp(x - m)),
    x_t, w_t, and with smoothing sum_c w_c x_c and W."""
    n_in, classes = first, x[1]
    eps = _num(at["label_smoothing"])
    valid = np.flatnonzero(t != at["ignore_index"])
    ignored = np.flatnonzero(t == at["ignore_index"])
    columns = [valid, valid, valid * classes + t[valid]]
    sources: tuple[int, ...] = (n_in, n_in + 2, 0)
    if weighted:
        columns.append(t[valid])
        sources += (2,)
    if eps:
        columns.append(valid)
        sources += (n_in + 3,)
        if weighted:
            columns.append(np.zeros(len(valid), np.int64))
            sources += (n_in + 4,)
    s = args(len(sources))
    lse, w_t = s[0] + sp.log(s[1]), (s[3] if weighted else sp.Integer(1))
    template = w_t * (lse - s[2])
    if eps:
        dot, total = s[4 if weighted else 3], (s[5] if weighted else sp.Integer(classes))
        template = (1 - eps) * template + eps / classes * (total * lse - dot)
    groups = [Group(template, sources, valid, np.stack(columns, axis=1))]
    if len(ignored):
        groups.append(Group(sp.Integer(0), (), ignored, np.zeros((len(ignored), 0), np.int64)))
    return Stage(x[0], tuple(groups))


def _reduction(x: tuple[int, int], t: np.ndarray, at: dict, weighted: bool, losses: int) -> list[Stage]:
    """The sum, or the mean over samples not ignored (divided by the sum of their w_t)."""
    n = x[0]
    if at["reduction"] == "none":
        return []
    if at["reduction"] == "sum":
        return [reduce_rows(np.arange(n)[None, :], losses, lambda xs: sp.Add(*xs))]
    valid = np.flatnonzero(t != at["ignore_index"])
    if not len(valid):
        return [Stage(1, (Group(sp.nan, (), np.zeros(1, np.int64), np.zeros((1, 0), np.int64)),))]
    count = len(valid) if weighted else 0
    s = args(n + count)
    denominator = sp.Add(*s[n:]) if weighted else sp.Integer(len(valid))
    gather = np.concatenate([np.arange(n), t[valid]]) if weighted else np.arange(n)
    group = Group(sp.Add(*s[:n]) / denominator, (losses,) * n + (2,) * count, np.zeros(1, np.int64), gather[None, :])
    return [Stage(1, (group,))]


def lower_weighted_smoothed(shapes: Shapes, at: dict, targets: np.ndarray, exp_rows: list[Stage]) -> list[Stage]:
    """The stages of cross_entropy of (N, C) logits with weights and/or label smoothing;
    ``exp_rows``: the shifted-exp stages (m, exp(x - m), their row sum) at n_in.. n_in+2."""
    x = (int(shapes[0][0]), int(shapes[0][1]))
    weighted = len(shapes) > 2 and shapes[2] is not None
    n_in, t = len(shapes), np.asarray(targets).reshape(-1)
    stages = list(exp_rows)
    if at["label_smoothing"]:
        stages.append(_row_dot(grid(x), weighted))
        if weighted:
            stages.append(reduce_rows(np.arange(x[1])[None, :], 2, lambda xs: sp.Add(*xs)))
    stages.append(_per_sample(x, t, at, weighted, n_in))
    return stages + _reduction(x, t, at, weighted, n_in + len(stages) - 1)
