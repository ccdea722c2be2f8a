"""SymPy lowering of cross_entropy with class-index targets (its forward definition only).

Per sample i with target t: lse = log(sum_c exp(x_c)),
nll = -w_t (x_t - lse), smooth = -sum_c w_c (x_c - lse), loss_i = (1 - e) nll + (e / C) smooth;
ignored samples contribute 0. 'mean' divides by the sum of w_t over the samples not ignored.
The targets are structure (they pick the template's first logit), not values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .templates import Group, Stage, args, grid
from .templates import exact_number as _num


def _sample_template(classes: int, eps: sp.Expr, weighted: bool) -> sp.Expr:
    """Placeholders: the row's logits rotated so the target is first, then (if weighted) the
    class weights rotated the same way."""
    s = args(2 * classes if weighted else classes)
    x, w = s[:classes], (s[classes:] if weighted else (1,) * classes)
    lse = sp.log(sp.Add(*[sp.exp(v) for v in x]))
    nll = -w[0] * (x[0] - lse)
    if eps == 0:
        return nll
    smooth = -sp.Add(*[wc * (xc - lse) for wc, xc in zip(w, x)])
    return (1 - eps) * nll + eps / classes * smooth


def _per_sample(shapes: Sequence[Any], attrs: dict, targets: np.ndarray) -> Stage:
    x_shape = tuple(shapes[0])
    classes = x_shape[-1]
    weighted = len(shapes) > 2 and shapes[2] is not None
    rows = grid(x_shape).reshape(-1, classes)
    t = np.asarray(targets).reshape(-1)
    valid = np.flatnonzero(t != attrs["ignore_index"])
    ignored = np.flatnonzero(t == attrs["ignore_index"])
    rotation = (t[valid, None] + np.arange(classes)[None, :]) % classes
    gather = np.take_along_axis(rows[valid], rotation, axis=1)
    sources = (0,) * classes
    if weighted:
        gather = np.concatenate([gather, rotation], axis=1)
        sources += (2,) * classes
    template = _sample_template(classes, _num(attrs["label_smoothing"]), weighted)
    groups = [Group(template, sources, valid, gather)]
    if len(ignored):
        groups.append(Group(sp.Integer(0), (), ignored, np.zeros((len(ignored), 0), np.int64)))
    return Stage(len(t), tuple(groups))


def _weighted_mean(n: int, targets: np.ndarray, attrs: dict, weighted: bool) -> Stage:
    """sum_i loss_i / sum_i w_{t_i} over samples not ignored (their count when unweighted)."""
    t = np.asarray(targets).reshape(-1)
    valid = np.flatnonzero(t != attrs["ignore_index"])
    s = args(n + (len(valid) if weighted else 0))
    denominator = sp.Add(*s[n:]) if weighted else sp.Integer(len(valid))
    template = sp.Add(*s[:n]) / denominator if len(valid) else sp.nan
    gather = np.concatenate([np.arange(n), t[valid]]) if weighted else np.arange(n)
    sources = (3,) * n + ((2,) * len(valid) if weighted else ())
    return Stage(1, (Group(template, sources, np.zeros(1, np.int64), gather[None, :]),))


def lower_cross_entropy(shapes: Sequence[Any], attrs: dict, targets: np.ndarray | None) -> list[Stage]:
    assert targets is not None, "cross_entropy targets are part of the structure"
    per_sample = _per_sample(shapes, attrs, targets)
    weighted = len(shapes) > 2 and shapes[2] is not None
    n = per_sample.size
    if attrs["reduction"] == "none":
        return [per_sample]
    if attrs["reduction"] == "sum":
        group = Group(sp.Add(*args(n)), (3,) * n, np.zeros(1, np.int64), np.arange(n)[None, :])
        return [per_sample, Stage(1, (group,))]
    return [per_sample, _weighted_mean(n, targets, attrs, weighted)]
