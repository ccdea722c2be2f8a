"""What a cached capture froze that the user can change between calls without changing the call.

A trace bakes in tensors the function closes over that require no grad (a target, a mask, a
module's running statistics in eval mode) and Python numbers it reads from its closure. A
repeated ``gradcheck`` reuses the capture only while those are what they were: the same values
(compared, since native kernels update running statistics without bumping a tensor's version)
and the same objects bound to the closure's names (a rebound global or a new module).
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import torch

from .capture import _closure


def _bindings(func: Any) -> dict[str, Any]:
    """The closure's tensors and modules by identity, its numbers and strings by value."""
    if isinstance(func, torch.nn.Module):
        return {}
    found: dict[str, tuple[str, Any]] = {}
    for name, value in _closure(func).items():
        if isinstance(value, (torch.Tensor, torch.nn.Module)):
            found[name] = ("object", id(value))
        elif isinstance(value, (numbers.Number, str)) and not isinstance(value, torch.Tensor):
            found[name] = ("value", value)
    return found


@dataclasses.dataclass
class Frozen:
    """The closure's bindings and each baked-in tensor constant with its value at capture."""

    bindings: dict[str, Any]
    constants: list[tuple[torch.Tensor, torch.Tensor]]

    def still_valid(self, func: Any) -> bool:
        if _bindings(func) != self.bindings:
            return False
        return all(t.shape == saved.shape and torch.equal(t, saved) for t, saved in self.constants)


def frozen(func: Any, graph: torch.fx.GraphModule) -> Frozen:
    """What the capture ``graph`` of ``func`` froze (its get_attr tensors that require no grad)."""
    constants = []
    for node in graph.graph.nodes:
        if node.op != "get_attr":
            continue
        value = getattr(graph, str(node.target), None)
        if isinstance(value, torch.Tensor) and not (value.requires_grad and value.is_floating_point()):
            constants.append((value, value.detach().clone()))
    return Frozen(_bindings(func), constants)
