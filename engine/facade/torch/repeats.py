"""One tensor passed as several inputs: ``gradcheck(f, (x, x))``.

torch's gradcheck perturbs the tensor itself, so at every position it checks the derivative
through all of its uses (the sum of the partials), and autograd's gradient for that tensor is
that sum. The capture gives each position its own leaf; here the later leaves are merged into
the first one (named after the first position), so every witness differentiates the one tensor.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from crossgrad.engine.graph import Graph, OpNode


def repeated(inputs: list[Any]) -> tuple[int, ...]:
    """Positions holding a tensor already passed at an earlier position (part of the cache key)."""
    seen: set[int] = set()
    found = []
    for i, value in enumerate(inputs):
        if isinstance(value, torch.Tensor):
            if id(value) in seen:
                found.append(i)
            seen.add(id(value))
    return tuple(found)


def unique(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor once, at its first position."""
    return list({id(t): t for t in tensors}.values())


def merged(graph: Graph, names: list[str], tensors: list[torch.Tensor]) -> tuple[Graph, list[str]]:
    """``graph`` with the leaves of repeated tensors replaced by the first one's; ``names`` are the
    input leaves' names, one per tensor in ``tensors``. Returns the graph and the kept names."""
    first: dict[int, str] = {}
    rename = {}
    for name, t in zip(names, tensors):
        rename.update({name: first[id(t)]} if id(t) in first else {})
        first.setdefault(id(t), name)
    if not rename:
        return graph, names
    nodes = tuple(dataclasses.replace(n, inputs=tuple(rename.get(i, i) if i else i for i in n.inputs))
                  if isinstance(n, OpNode) else n for n in graph.nodes if n.name not in rename)
    return Graph(nodes, rename.get(graph.output, graph.output)), [n for n in names if n not in rename]
