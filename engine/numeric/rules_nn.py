"""Numeric forward and hand-written VJP of embedding and layer_norm (engine/nn_specs.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules_scatter import scatter_rows
from .ruletools import Arr, Rule, traced


def _embedding(xs: tuple, at: dict) -> tuple[Arr, Any]:
    idx, weight = xs
    return weight[idx], idx


def _embedding_vjp(g: Arr, idx: Arr, node: Any) -> tuple:
    """d weight[idx]: rows of g added at the rows idx names; the padding_idx row stays 0."""
    shape = node.shapes[1]
    gw = scatter_rows(g, idx, shape)
    p = node.attrs["padding_idx"]
    if p is not None:
        keep = np.ones((shape[0], 1), g.dtype)
        keep[p] = 0
        gw = gw * keep
    return None, gw


def _norm_axes(x: Arr, at: dict) -> tuple[int, ...]:
    return tuple(range(x.ndim - len(at["normalized_shape"]), x.ndim))


def _normalized(x: Arr, at: dict) -> tuple[Arr, Arr]:
    """x_hat = (x - mean) * rstd, rstd = 1 / sqrt(biased var + eps), over the normalized dims."""
    axes = _norm_axes(x, at)
    centered = x - x.mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + x.dtype.type(at["eps"]))
    return centered * rstd, rstd


def _layer_norm(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """Saves x_hat and rstd too (as torch saves mean and rstd): derived values the first-order
    VJP reads; under create_graph the VJP recomputes them from the live input instead."""
    x, w, b = xs
    xhat, rstd = _normalized(x, at)
    out = xhat if w is None else xhat * w
    return (out if b is None else out + b), (x, w, xhat, rstd)


def _layer_norm_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    """dx = rstd * (gh - mean(gh) - x_hat * mean(gh * x_hat)), gh = g * w; dw = sum g x_hat; db = sum g."""
    x, w, xhat, rstd = saved
    at, needs = node.attrs, node.needs
    if traced(g, x, w):
        xhat, rstd = _normalized(x, at)
    axes = _norm_axes(x, at)
    batch = tuple(range(x.ndim - len(axes)))
    gx = gw = gb = None
    if needs[0]:
        gh = g if w is None else g * w
        gx = rstd * (gh - gh.mean(axis=axes, keepdims=True) - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
    if len(needs) > 1 and needs[1]:
        gw = (g * xhat).sum(axis=batch)
    if len(needs) > 2 and needs[2]:
        gb = g.sum(axis=batch)
    return gx, gw, gb


def _masked_fill(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x, mask = xs
    return np.where(mask, x.dtype.type(at["value"]), x), mask


NN_RULES: dict[str, Rule] = {
    "masked_fill": Rule(_masked_fill, lambda g, mask, node: (np.where(mask, np.zeros((), g.dtype), g), None)),
    "dropout": Rule(lambda xs, at: (xs[0] * xs[1], xs[1]), lambda g, mask, node: (g * mask, None)),
    "embedding": Rule(_embedding, _embedding_vjp),
    "layer_norm": Rule(_layer_norm, _layer_norm_vjp),
}
