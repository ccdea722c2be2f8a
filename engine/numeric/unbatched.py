"""Unbatched (C, H, W) inputs of the 2-D pooling rules, as torch accepts them.

Pooling works plane by plane, so a (C, H, W) input is the (1, C, H, W) batch with the same
flat layout: the rule runs on that view and its output (and input gradient) lose the leading 1.
Saved values stay in the batched layout the wrapped rule expects.
"""

from __future__ import annotations

from typing import Any

from .ruletools import Arr, Rule


class _Batched:
    """A node seen by the wrapped VJP: the same node with a (1, C, H, W) input shape."""

    def __init__(self, node: Any) -> None:
        self._node = node
        self.shapes = [(1, *node.shapes[0]), *node.shapes[1:]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def batched_node(node: Any) -> Any:
    """``node`` as the wrapped rule expects it (itself when its input already has a batch dim)."""
    return _Batched(node) if len(node.shapes[0]) == 3 else node


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
        grads = rule.vjp(g.reshape((1, *g.shape)), saved, _Batched(node))
        first = None if grads[0] is None else grads[0].reshape(shape)
        return (first, *grads[1:])

    return Rule(forward, vjp)
