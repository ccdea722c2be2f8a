"""Numeric forward and hand-written VJP of the reductions of engine/ops_reductions.py."""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules import reduced_dims
from .ruletools import Arr, Rule, asarray, call, traced


def _keep(y: Arr, shape: tuple, at: dict, dims: tuple[int, ...]) -> Arr:
    """A reduced result with its reduced dims back (size 1), to broadcast against the input."""
    return y if at.get("keepdim") else np.expand_dims(y, dims)


def _count(shape: tuple, dims: tuple[int, ...]) -> int:
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


def _reduction(fwd: Any, vjp: Any) -> Rule:
    """``fwd(x, dims, at)`` reduced with keepdims; ``vjp(g, x, out, dims, at)`` with g and out
    already broadcastable to x. The saved output is the returned array itself, so that under
    create_graph it is the live output (its dependence on x is part of the second derivative)."""
    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        x = xs[0]
        dims = reduced_dims(at.get("dim"), x.ndim)
        kept = np.asarray(fwd(x, dims, at), dtype=x.dtype)
        out = kept if at.get("keepdim") else kept.reshape([s for i, s in enumerate(x.shape) if i not in dims])
        return out, (x, out)

    def backward(g: Arr, saved: Any, node: Any) -> tuple:
        x, out = saved
        dims = reduced_dims(node.attrs.get("dim"), x.ndim)
        keep = _keep(out, x.shape, node.attrs, dims)
        return (asarray(vjp(_keep(g, x.shape, node.attrs, dims), x, keep, dims, node.attrs), g.dtype),)

    return Rule(forward, backward)


def _logsumexp(x: Arr, dims: tuple, at: dict) -> Arr:
    top = np.max(x, axis=dims, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    top = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - top), axis=dims, keepdims=True)) + top


def _ties_evenly(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict) -> Arr:
    """amax/amin: the gradient split evenly among the elements equal to the result."""
    hit = x == out
    return g * hit / np.sum(hit, axis=dims, keepdims=True)


def _evenly(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict) -> Arr:
    """max()/min() of everything: split evenly among the elements equal to the result, or among
    the NaNs when it is NaN (torch's evenly_distribute_backward; amax's own rule gives NaN there)."""
    hit = (x == out) | ((x != x) & (out != out))
    return g * hit / np.sum(hit, axis=dims, keepdims=True)


def _first_index(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict, pick: Any) -> Arr:
    """max/min(dim): the gradient to the returned index only (the first extreme)."""
    if not dims:  # a 0-d input: its one element is the result
        return g * np.ones(x.shape, bool)
    (dim,) = dims
    index = np.expand_dims(pick(x, axis=dim), dim)
    mask = np.zeros(x.shape, bool)
    np.put_along_axis(mask, index, True, axis=dim)
    return g * mask


def _var(x: Arr, dims: tuple, at: dict) -> Arr:
    n = _count(x.shape, dims)
    return np.sum((x - np.mean(x, axis=dims, keepdims=True)) ** 2, axis=dims, keepdims=True) / (n - at["correction"])


def _var_vjp(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict) -> Arr:
    """d var = 2 (x - mean) / (N - correction)."""
    return g * 2 * (x - np.mean(x, axis=dims, keepdims=True)) / (_count(x.shape, dims) - at["correction"])


def _std_vjp(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict) -> Arr:
    """d var / (2 std), 0 where std is 0 (a constant row), as torch's std_backward."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(out == 0, 0.0, _var_vjp(g, x, out, dims, at) / (2 * out))


def _norm(x: Arr, dims: tuple, at: dict) -> Arr:
    if at["p"] == 1:
        return np.sum(np.abs(x), axis=dims, keepdims=True)
    if at["p"] != 2:
        raise NotImplementedError(f"norm with p={at['p']} (p=1 and p=2 are in the catalogue)")
    return np.sqrt(np.sum(x * x, axis=dims, keepdims=True))


def _norm_vjp(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict) -> Arr:
    """p=2: x / norm (0 where the norm is 0, as torch); p=1: sign(x)."""
    if at["p"] == 1:
        return g * np.sign(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * np.where(out == 0, 0.0, x / out)


def _others(moved: Arr) -> Arr:
    """Per element of the last axis, the product of the row's other elements.

    First order: exclusive prefix times suffix products (O(K), right where some x_j is 0, unlike
    out / x). Under create_graph: prod over a (K, K) stack of the row with 1 on the diagonal,
    a recorded prod op whose own VJP gives the next order (O(K^2), only when differentiating)."""
    if traced(moved):
        eye = np.eye(moved.shape[-1], dtype=moved.dtype)
        stacked = np.expand_dims(moved, -2) * (1 - eye) + eye
        return call("prod", stacked, dim=(-1,), keepdim=False)
    ones = np.ones(moved.shape[:-1] + (1,), moved.dtype)
    prefix = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
    suffix = np.flip(np.cumprod(np.concatenate([ones, np.flip(moved, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return prefix * suffix


def _prod_vjp(g: Arr, x: Arr, out: Arr, dims: tuple, at: dict) -> Arr:
    """d prod / d x_i = product of the others, along the flattened reduced dims."""
    kept = [d for d in range(x.ndim) if d not in dims]
    if x.size == 0:  # an empty input has an empty gradient
        return g * np.zeros(x.shape, bool)
    moved = np.transpose(x, kept + list(dims)).reshape([x.shape[d] for d in kept] + [-1])
    others = _others(moved).reshape([x.shape[d] for d in kept] + [x.shape[d] for d in dims])
    return g * np.transpose(others, np.argsort(kept + list(dims)))


def _cumsum_forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    return (np.cumsum(x, axis=at["dim"] % x.ndim) if x.ndim else x.copy()), None


def _cumsum_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """The reversed running sum of g."""
    if not g.ndim:
        return (g,)
    dim = node.attrs["dim"] % g.ndim
    return (np.flip(np.cumsum(np.flip(g, dim), axis=dim), dim),)


_AMAX = _reduction(lambda x, dims, at: np.max(x, axis=dims, keepdims=True), _ties_evenly)
_AMIN = _reduction(lambda x, dims, at: np.min(x, axis=dims, keepdims=True), _ties_evenly)

REDUCTION_RULES: dict[str, Rule] = {
    "logsumexp": _reduction(_logsumexp, lambda g, x, out, dims, at: g * np.exp(x - out)),
    "amax": _AMAX, "amin": _AMIN,
    "max_all": _reduction(lambda x, dims, at: np.max(x, axis=dims, keepdims=True), _evenly),
    "min_all": _reduction(lambda x, dims, at: np.min(x, axis=dims, keepdims=True), _evenly),
    "max_dim": _reduction(lambda x, dims, at: np.max(x, axis=dims, keepdims=True),
                          lambda g, x, out, dims, at: _first_index(g, x, out, dims, at, np.argmax)),
    "min_dim": _reduction(lambda x, dims, at: np.min(x, axis=dims, keepdims=True),
                          lambda g, x, out, dims, at: _first_index(g, x, out, dims, at, np.argmin)),
    "var": _reduction(_var, _var_vjp),
    "std": _reduction(lambda x, dims, at: np.sqrt(_var(x, dims, at)), _std_vjp),
    "norm": _reduction(_norm, _norm_vjp),
    "prod": _reduction(lambda x, dims, at: np.prod(x, axis=dims, keepdims=True), _prod_vjp),
    "cumsum": Rule(_cumsum_forward, _cumsum_vjp),
}
