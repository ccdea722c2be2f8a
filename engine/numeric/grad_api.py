"""``crossgrad.autograd.grad`` and ``crossgrad.autograd.backward``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import dispatch
from .autograd import run_backward
from .tensor import Tensor, _root_and_grad, backward_many


def _seq(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``."""
    if create_graph:
        raise NotImplementedError("crossgrad does not build graphs of the backward pass")
    outs, ins = _seq(outputs), _seq(inputs)
    seeds = _seq(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots, grads = zip(*(_root_and_grad(o, g) for o, g in zip(outs, seeds)))
    capture = {dispatch.edge(t)[0]: i for i, t in enumerate(ins)}
    found = run_backward(list(roots), list(grads), bool(retain_graph), capture)
    result = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
        result.append(None if g is None else Tensor._make(g.astype(t._data.dtype, copy=True)))
    return tuple(result)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None) -> None:
    outs = _seq(tensors)
    seeds: Sequence[Any] = _seq(grad_tensors) if grad_tensors is not None else [None] * len(outs)
    backward_many(outs, seeds, bool(retain_graph))
