"""Turn the history of an engine tensor into a graph IR (what ``crossgrad.check`` sends)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Graph, GraphNode, Leaf, OpNode
from .autograd import AccumulateGrad, Node
from .tensor import Tensor


def _children(node: Node) -> list[Any]:
    return [nxt for nxt, _ in node.next_functions if nxt is not None and type(nxt) is not AccumulateGrad]


def _post_order(root: Node) -> list[Node]:
    """Nodes in topological order (inputs first), iteratively."""
    order: list[Node] = []
    seen = {root}
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        kids = _children(node)
        if i < len(kids):
            stack.append((node, i + 1))
            if kids[i] not in seen:
                seen.add(kids[i])
                stack.append((kids[i], 0))
        else:
            order.append(node)
    return order


class _Builder:
    def __init__(self, names: dict[int, str]) -> None:
        self.nodes: list[GraphNode] = []
        self.names = names
        self.leaves: dict[str, Tensor] = {}
        self.by_node: dict[int, str] = {}

    def leaf(self, tensor: Tensor) -> str:
        key = id(tensor)
        if key in self.by_node:
            return self.by_node[key]
        name = self.names.get(key) or f"leaf{len(self.leaves)}"
        self.nodes.append(Leaf(name, np.array(tensor._data), True))
        self.leaves[name] = tensor
        self.by_node[key] = name
        return name

    def const(self, value: np.ndarray) -> str:
        name = f"const{len(self.nodes)}"
        self.nodes.append(Leaf(name, np.array(value), False))
        return name

    def op(self, node: Node) -> str:
        inputs: list[str | None] = []
        for pos, ((nxt, _), shape) in enumerate(zip(node.next_functions, node.shapes)):
            if shape is None:
                inputs.append(None)
            elif nxt is None:
                inputs.append(self.const(node.consts[pos]))
            elif type(nxt) is AccumulateGrad:
                inputs.append(self.leaf(nxt.variable))
            else:
                inputs.append(self.by_node[id(nxt)])
        name = self.names.get(id(node)) or f"{node.op}{len(self.nodes)}"  # a named intermediate tensor
        self.nodes.append(OpNode(name, node.op, tuple(inputs), dict(node.attrs)))
        self.by_node[id(node)] = name
        return name


def to_graph(root: Tensor, names: dict[int, str] | None = None) -> tuple[Graph, dict[str, Tensor]]:
    """The graph that produced ``root``; leaves that require grad keep their (given) names, and so do
    op nodes whose ``grad_fn`` id is a key of ``names`` (an intermediate tensor named by the caller)."""
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    builder = _Builder(names or {})
    if root.grad_fn is None:
        output = builder.leaf(root)
        return Graph(tuple(builder.nodes), output), builder.leaves
    for node in _post_order(root.grad_fn):
        output = builder.op(node)
    return Graph(tuple(builder.nodes), output), builder.leaves
