"""Numeric forward and hand-written VJP of embedding and layer_norm (engine/nn_specs.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import array_kernels
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
    xhat, rstd = array_kernels.normalized(x, _norm_axes(x, at), x.dtype.type(at["eps"]))
    out = xhat if w is None else xhat * w
    if b is not None:
        in_place = out is not xhat and out.shape == x.shape and out.dtype == np.result_type(out, b)
        out = np.add(out, b, out=out) if in_place else out + b
    return out, (x, w, xhat, rstd)


def _layer_norm_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    """dx = rstd * (gh - mean(gh) - x_hat * mean(gh * x_hat)), gh = g * w; dw = sum g x_hat; db = sum g."""
    x, w, xhat, rstd = saved
    at, needs = node.attrs, node.needs
    if traced(g, x, w):
        xhat, rstd = _normalized(x, at)
    axes = _norm_axes(x, at)
    batch = tuple(range(x.ndim - len(axes)))
    gx = gw = gb = None
    if needs[0] and not traced(g, x, w):
        gx = array_kernels.layer_norm_dx(g, w, xhat, rstd, axes)
    elif needs[0]:
        gh = g if w is None else g * w
        gx = rstd * (gh - gh.mean(axis=axes, keepdims=True) - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
    arrays = not traced(g, x, w)
    if len(needs) > 1 and needs[1]:
        gw = array_kernels.sum_leading(g * xhat, len(batch)) if arrays else (g * xhat).sum(axis=batch)
    if len(needs) > 2 and needs[2]:
        gb = array_kernels.sum_leading(g, len(batch)) if arrays else g.sum(axis=batch)
    return gx, gw, gb


def _masked_fill(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x, mask = xs
    return array_kernels.masked_fill(x, mask, x.dtype.type(at["value"])), mask


def _masked_fill_vjp(g: Arr, mask: Arr) -> Arr:
    if traced(g):
        return np.where(mask, np.zeros((), g.dtype), g)
    return array_kernels.masked_fill(g, mask, np.zeros((), g.dtype))


NN_RULES: dict[str, Rule] = {
    "masked_fill": Rule(_masked_fill, lambda g, mask, node: (_masked_fill_vjp(g, mask), None)),
    "dropout": Rule(lambda xs, at: (xs[0] * xs[1], xs[1]), lambda g, mask, node: (g * mask, None)),
    "embedding": Rule(_embedding, _embedding_vjp),
    "layer_norm": Rule(_layer_norm, _layer_norm_vjp),
}
