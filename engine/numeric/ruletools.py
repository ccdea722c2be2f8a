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


def sigmoid(x: Arr) -> Arr:
    """sigmoid(x) = exp(-softplus(-x)), without overflow warnings."""
    return np.exp(-np.logaddexp(0, -x))


def log_softmax(x: Arr, dim: int) -> Arr:
    """x - logsumexp(x) along dim, shifted by the max for stability."""
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

    full = ops.CATALOGUE[op].defaults() | attrs
    if any(hasattr(x, "_data") for x in inputs):
        from .dispatch import apply

        return apply(op, tuple(inputs), full)
    return RULES[op].forward(tuple(inputs), full)[0]
