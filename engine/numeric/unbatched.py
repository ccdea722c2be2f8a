"""Other input ranks of the 2-D pooling and resampling rules, as torch accepts them.

Pooling works plane by plane, so an unbatched (C, H, W) input is the (1, C, H, W) batch with the
same flat layout: the rule runs on that view and its output (and input gradient) lose the
leading 1. A 1-D interpolation of (N, C, L) is the 2-D one of the (N, C, 1, L) image. Saved
values stay in the layout the wrapped rule expects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .ruletools import Arr, Rule


class _Viewed:
    """A node seen by the wrapped VJP: the same node with its first input's shape (and possibly
    its attributes) as the wrapped rule expects them."""

    def __init__(self, node: Any, shape: tuple[int, ...], attrs: dict | None = None) -> None:
        self._node = node
        self.shapes = [shape, *node.shapes[1:]]
        self.attrs = node.attrs if attrs is None else attrs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def unbatched(rule: Rule) -> Rule:
    """``rule`` accepting a (C, H, W) input too."""

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        x = xs[0]
        if x.ndim != 3:
            return rule.forward(xs, at)
        y, saved = rule.forward((x.reshape((1, *x.shape)), *xs[1:]), at)
        return y.reshape(y.shape[1:]), saved

    def vjp(g: Arr, saved: Any, node: Any) -> tuple:
        shape = tuple(node.shapes[0])
        if len(shape) != 3:
            return rule.vjp(g, saved, node)
        grads = rule.vjp(g.reshape((1, *g.shape)), saved, _Viewed(node, (1, *shape)))
        first = None if grads[0] is None else grads[0].reshape(shape)
        return (first, *grads[1:])

    return Rule(forward, vjp)


def one_dim(rule: Rule, canon: Callable[[tuple, dict], tuple[tuple, dict]]) -> Rule:
    """``rule`` of a 2-D op taking the op's (N, C, L) form too: ``canon`` gives the (N, C, 1, L)
    shape and the 2-D attributes."""

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        x = xs[0]
        if x.ndim != 3:
            return rule.forward(xs, at)
        shape, flat = canon(x.shape, at)
        y, saved = rule.forward((x.reshape(shape), *xs[1:]), flat)
        return y.reshape(y.shape[:2] + y.shape[3:]), saved

    def vjp(g: Arr, saved: Any, node: Any) -> tuple:
        shape = tuple(node.shapes[0])
        if len(shape) != 3:
            return rule.vjp(g, saved, node)
        shape4, flat = canon(shape, node.attrs)
        grads = rule.vjp(g.reshape(g.shape[:2] + (1,) + g.shape[2:]), saved, _Viewed(node, shape4, flat))
        first = None if grads[0] is None else grads[0].reshape(shape)
        return (first, *grads[1:])

    return Rule(forward, vjp)
