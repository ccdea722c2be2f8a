"""What a cached capture froze that the user can change between calls without changing the call.

A trace bakes in tensors the function closes over that require no grad (a target, a mask, a
module's running statistics in eval mode) and Python numbers it reads from its closure. A
repeated ``gradcheck`` reuses the capture only while those are what they were: the same values
(compared, since native kernels update running statistics without bumping a tensor's version)
and the same objects bound to the closure's names (a rebound global or a new module). The names
worth watching are found once, at capture; each call reads only those.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers
from collections.abc import Callable
from typing import Any

import torch

from .capture import _closure

_MISSING = object()


def _kind(value: Any) -> tuple[str, Any] | None:
    """How a closure value is compared: tensors and modules by identity, numbers and strings by value."""
    if isinstance(value, (torch.Tensor, torch.nn.Module)):
        return ("object", id(value))
    if isinstance(value, (numbers.Number, str)):
        return ("value", value)
    return None


def _reader(func: Any, name: str) -> Callable[[], Any]:
    """Reads ``name`` as ``func`` sees it now: its closure cell, else its module's global."""
    target = func.__func__ if inspect.ismethod(func) else func
    code = getattr(target, "__code__", None)
    if code is not None and name in code.co_freevars:
        cell = (target.__closure__ or ())[code.co_freevars.index(name)]
        return lambda: cell.cell_contents
    namespace = getattr(target, "__globals__", {})
    return lambda: namespace.get(name, _MISSING)


@dataclasses.dataclass
class Frozen:
    """The watched closure names with their kind at capture, and each baked-in tensor constant
    with its value at capture."""

    bindings: list[tuple[Callable[[], Any], tuple[str, Any]]]
    constants: list[tuple[torch.Tensor, torch.Tensor]]

    def still_valid(self) -> bool:
        if any(_kind(read()) != kind for read, kind in self.bindings):
            return False
        return all(t.shape == saved.shape and torch.equal(t, saved) for t, saved in self.constants)


def frozen(func: Any, graph: torch.fx.GraphModule) -> Frozen:
    """What the capture ``graph`` of ``func`` froze (its get_attr tensors that require no grad)."""
    bindings = []
    if not isinstance(func, torch.nn.Module):
        for name, value in _closure(func).items():
            kind = _kind(value)
            if kind is not None:
                bindings.append((_reader(func, name), kind))
    constants = []
    for node in graph.graph.nodes:
        if node.op != "get_attr":
            continue
        value = getattr(graph, str(node.target), None)
        if isinstance(value, torch.Tensor) and not (value.requires_grad and value.is_floating_point()):
            constants.append((value, value.detach().clone()))
    return Frozen(bindings, constants)
