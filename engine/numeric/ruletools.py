"""Shared pieces of the numeric rule tables: the Rule record and a few stable kernels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Arr = np.ndarray


@dataclass(frozen=True)
class Rule:
    forward: Callable[[tuple, dict], tuple[Arr, Any]]
    vjp: Callable[[Arr, Any, Any], tuple]


def unbroadcast(g: Arr, shape: tuple[int, ...]) -> Arr:
    """Sum ``g`` over the dims that broadcasting added or stretched, back to ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def traced(*xs: Any) -> bool:
    """True when a VJP runs under create_graph (its values are engine tensors)."""
    return any(hasattr(x, "_data") for x in xs)


def asarray(x: Any, dtype: Any) -> Any:
    """np.asarray(x, dtype) for a VJP's result; under create_graph the tensor as it is (in its dtype)."""
    return x.astype(dtype) if traced(x) else np.asarray(x, dtype)


def data(x: Any) -> Any:
    """A saved non-differentiable value (an index, a mask) as a plain array, on either order."""
    return x._data if hasattr(x, "_data") else x


def sigmoid(x: Arr) -> Arr:
    """sigmoid(x) = exp(-softplus(-x)), without overflow warnings."""
    if traced(x):
        return call("sigmoid", x)
    return np.exp(-np.logaddexp(0, -x))


def embed(g: Arr, shape: tuple, dim: int, item: Any) -> Arr:
    """Zeros of ``shape`` with ``g`` at ``item`` (an int or a slice) along ``dim``: the VJP
    of select / slice. Under create_graph a product with a constant 0/1 matrix (linear in g)."""
    if not traced(g):
        out = np.zeros(shape, dtype=g.dtype)
        out[(slice(None),) * (dim % len(shape)) + (item,)] = g
        return out
    dim = dim % len(shape)
    n = shape[dim]
    picks = np.arange(n)[item]
    place = np.zeros((n, np.size(picks)), dtype=g.dtype)
    place[picks, np.arange(np.size(picks))] = 1
    if np.ndim(picks) == 0:  # select: the dim is gone; put it back as size 1
        g = np.expand_dims(g, dim)
    moved = np.swapaxes(g, dim, -1) @ place.T
    return np.swapaxes(moved, dim, -1)


def log_softmax(x: Arr, dim: int) -> Arr:
    """x - logsumexp(x) along dim, shifted by the max for stability."""
    if not traced(x):
        from . import array_kernels

        return array_kernels.log_softmax(x, dim)
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def call(op: str, *inputs: Any, **attrs: Any) -> Any:
    """Run catalogue op ``op`` inside a VJP rule (a VJP written in terms of other ops).

    On arrays (first-order backward) this is the op's numeric forward, plain numpy; when an
    input is an engine Tensor (backward under ``create_graph``) the op is recorded like any
    forward call, so the VJP itself can be differentiated again. Rules that need an op that
    numpy operators do not spell (a convolution's transpose, a scatter) use this, never a
    hand-written second table.
    """
    from .. import ops
    from .rules import RULES

    if traced(*inputs):
        from .higher import record

        return record(op, tuple(inputs), **attrs)
    full = ops.CATALOGUE[op].defaults() | attrs
    return RULES[op].forward(tuple(inputs), full)[0]
