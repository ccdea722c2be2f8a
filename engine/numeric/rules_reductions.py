"""Numeric forward and hand-written VJP of the transformer's reductions (issue 11, part A).

``dim`` None reduces every dim. A VJP first puts the upstream gradient (and any saved output)
back at the input's rank (``_back``), then applies the local derivative elementwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rules import reduced_dims
from .ruletools import Arr, Rule


def _dims(at: dict, ndim: int) -> tuple[int, ...]:
    return reduced_dims(at["dim"], ndim)


def _back(g: Arr, ndim: int, at: dict) -> Arr:
    """A reduced value with the reduced dims restored as size-1 dims (broadcasts against input)."""
    return g if at.get("keepdim") else np.expand_dims(g, _dims(at, ndim))


def _count(shape: tuple, dims: tuple[int, ...]) -> int:
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


def _reduction(fwd: Any, vjp: Any) -> Rule:
    """forward(x, dims, at) -> out; vjp(g, x, out, at) with g and out at the input's rank."""

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        x = xs[0]
        out = np.asarray(fwd(x, _dims(at, x.ndim), at))
        return out, (x, out)

    def backward(g: Arr, saved: Any, node: Any) -> tuple:
        x, out = saved
        return (vjp(_back(g, x.ndim, node.attrs), x, _back(out, x.ndim, node.attrs), node.attrs),)

    return Rule(forward, backward)


# --- logsumexp ----------------------------------------------------------------------------
def _logsumexp(x: Arr, dims: tuple, at: dict) -> Arr:
    m = np.amax(x, axis=dims, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    m = np.where(np.isfinite(m), m, np.zeros((), x.dtype))
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - m).sum(axis=dims, keepdims=True)) + m
    return out if at["keepdim"] else np.squeeze(out, dims)


# --- extremes -----------------------------------------------------------------------------
def _even_split(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d amax: g shared evenly by the elements equal to the extreme (PyTorch's amax/amin)."""
    hit = x == out
    return g * hit / hit.sum(axis=_dims(at, x.ndim), keepdims=True).astype(g.dtype)


def _extreme(reduce: Any) -> Rule:
    return _reduction(lambda x, dims, at: reduce(x, axis=dims, keepdims=at["keepdim"]), _even_split)


def _indexed(pick: Any, reduce: Any) -> Rule:
    """max/min: over every element (ties split evenly), or along one dim with the gradient to
    the index ``pick`` (argmax/argmin: the first extreme) returns."""

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        x = xs[0]
        if at["dim"] is None or x.ndim == 0:
            out = np.asarray(reduce(x))
            return out, (x, out, None)
        axis = at["dim"] % x.ndim
        index = np.expand_dims(pick(x, axis=axis), axis)
        out = np.take_along_axis(x, index, axis)
        return (out if at["keepdim"] else np.squeeze(out, axis)), (x, None, index)

    def backward(g: Arr, saved: Any, node: Any) -> tuple:
        x, out, index = saved
        if index is None:
            hit = x == out
            return (g * hit / np.asarray(hit.sum(), g.dtype),)
        axis = node.attrs["dim"] % x.ndim
        grad = np.zeros(x.shape, g.dtype)
        np.put_along_axis(grad, index, g if node.attrs["keepdim"] else np.expand_dims(g, axis), axis)
        return (grad,)

    return Rule(forward, backward)


# --- var, std, norm -----------------------------------------------------------------------
def _var(x: Arr, dims: tuple, at: dict) -> Arr:
    d = x - x.mean(axis=dims, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (d * d).sum(axis=dims, keepdims=at["keepdim"]) / (_count(x.shape, dims) - at["correction"])


def _var_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d var = 2 (x - mean) / (N - correction)."""
    dims = _dims(at, x.ndim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * 2 * (x - x.mean(axis=dims, keepdims=True)) / (_count(x.shape, dims) - at["correction"])


def _std_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d std = d var / (2 std) = (x - mean) / ((N - correction) std)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _var_vjp(g / (2 * out), x, out, at)


def _norm(x: Arr, dims: tuple, at: dict) -> Arr:
    if at["p"] == 1.0:
        return np.abs(x).sum(axis=dims, keepdims=at["keepdim"])
    return np.sqrt((x * x).sum(axis=dims, keepdims=at["keepdim"]))


def _norm_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """p=1: sign(x); p=2: x / norm, 0 where the norm is 0 (PyTorch's masked division)."""
    if at["p"] == 1.0:
        return g * np.sign(x)
    safe = np.where(out == 0, np.ones((), out.dtype), out)
    return g * np.where(out == 0, np.zeros((), x.dtype), x / safe)


# --- cumsum, prod -------------------------------------------------------------------------
def _cumsum(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    return (np.cumsum(x, axis=at["dim"] % x.ndim) if x.ndim else x.copy()), None


def _cumsum_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """d cumsum: the reversed running sum of g along dim."""
    if not g.ndim:
        return (g,)
    axis = node.attrs["dim"] % g.ndim
    return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


def exclusive_products(x: Arr, axis: int) -> Arr:
    """Per element, the product of the others along ``axis`` (prefix times suffix, no division,
    so zeros are exact)."""
    ones = np.ones_like(np.take(x, [0], axis=axis))
    before = np.cumprod(np.concatenate([ones, np.delete(x, -1, axis=axis)], axis=axis), axis=axis)
    flipped = np.flip(x, axis)
    after = np.cumprod(np.concatenate([ones, np.delete(flipped, -1, axis=axis)], axis=axis), axis=axis)
    return before * np.flip(after, axis)


def _prod(xs: tuple, at: dict) -> tuple[Arr, Any]:
    x = xs[0]
    if at["dim"] is None or x.ndim == 0:
        return np.asarray(x.prod()), (x,)
    return np.asarray(x.prod(axis=at["dim"] % x.ndim, keepdims=at["keepdim"])), (x,)


def _prod_vjp(g: Arr, saved: Any, node: Any) -> tuple:
    """d prod / d x_i = product of the other elements (along dim, or of all of them)."""
    x, at = saved[0], node.attrs
    if at["dim"] is None or x.ndim == 0:
        return (g * exclusive_products(x.reshape(-1), 0).reshape(x.shape),)
    axis = at["dim"] % x.ndim
    return (_back(g, x.ndim, {"dim": axis, "keepdim": at["keepdim"]}) * exclusive_products(x, axis),)


REDUCTION_RULES: dict[str, Rule] = {
    "logsumexp": _reduction(_logsumexp, lambda g, x, out, at: g * np.exp(x - out)),
    "amax": _extreme(np.amax),
    "amin": _extreme(np.amin),
    "max": _indexed(np.argmax, np.amax),
    "min": _indexed(np.argmin, np.amin),
    "var": _reduction(_var, _var_vjp),
    "std": _reduction(lambda x, dims, at: np.sqrt(_var(x, dims, at)), _std_vjp),
    "norm": _reduction(_norm, _norm_vjp),
    "cumsum": Rule(_cumsum, _cumsum_vjp),
    "prod": Rule(_prod, _prod_vjp),
}
