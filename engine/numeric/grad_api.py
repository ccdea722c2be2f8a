"""``crossgrad.autograd.grad`` and ``crossgrad.autograd.backward``."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import dispatch
from .autograd import run_backward
from .shape_api import stack
from .tensor import Tensor, _root_and_grad


def _seq(x: Any) -> list:
    """A Tensor (or another single value) as one item; a dict's values (torch's named inputs,
    e.g. dict(model.named_parameters())); any other iterable as its items."""
    if isinstance(x, Tensor) or x is None or isinstance(x, (int, float, np.ndarray)):
        return [x]
    if type(x) is dict:
        return list(x.values())
    if isinstance(x, Mapping):
        raise TypeError(f"`inputs` argument to `grad()` must be a dict, not {type(x).__name__}. "
                        "Other Mapping types are not supported.")
    return list(x)


def _seeds(outs: list, grad_outputs: Any) -> list:
    """One seed per output, as torch pairs them: extra grad_outputs are ignored, too few raise."""
    if grad_outputs is None:
        return [None] * len(outs)
    seeds = _seq(grad_outputs)[:len(outs)]
    if len(seeds) != len(outs):
        raise RuntimeError(f"got {len(outs)} tensors and {len(seeds)} gradients")
    return seeds


def _roots(outs: list, seeds: list, create_graph: bool) -> tuple[list, list]:
    """Root nodes and seed gradients; under create_graph the seeds are Tensors (a Tensor
    ``grad_outputs`` is used as given, so the result can depend on it)."""
    roots: list = []
    grads: list = []
    for i, (o, g) in enumerate(zip(outs, seeds)):
        root, arr = _root_and_grad(o, g, i)
        roots.append(root)
        if create_graph:
            grads.append(g if isinstance(g, Tensor) else Tensor._make(arr))
        else:
            grads.append(arr)
    return roots, grads


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``;
    materialize_grads gives zeros for unused inputs (implies allow_unused, as torch); torch's
    positional order (only_inputs is deprecated and ignored, as in torch)."""
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To "
                      "accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if type(inputs) is dict:  # torch: a dict of inputs gives a dict of gradients
        named = grad(outputs, list(inputs.values()), grad_outputs, retain_graph, create_graph, only_inputs,
                     allow_unused, is_grads_batched, materialize_grads)
        return dict(zip(inputs.keys(), named))  # type: ignore[return-value]
    inputs = _seq(inputs)
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                        materialize_grads)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    outs, ins = _seq(outputs), _seq(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    seeds = _seeds(outs, grad_outputs)
    for i, o in enumerate(outs):  # torch checks the outputs first
        if not o.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    roots, grads = _roots(outs, seeds, create_graph)
    nodes = [dispatch.edge(t)[0] for t in ins]
    capture = {node: k for k, node in enumerate(dict.fromkeys(nodes))}  # an input given twice: once
    unique = run_backward(roots, grads, retain, capture, create_graph)
    found = [unique[capture[node]] for node in nodes]
    result: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
        if g is None and materialize_grads:  # torch: zeros_like(input, requires_grad=create_graph)
            result.append(Tensor(np.zeros_like(t._data), requires_grad=create_graph))
        elif g is None or isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._make(g.astype(t._data.dtype, copy=True)))
    return tuple(result)


def _batched(outputs: Any, inputs: Any, grad_outputs: Any, retain_graph: bool | None,
             create_graph: bool, allow_unused: bool | None, materialize_grads: bool) -> tuple:
    """is_grads_batched: each grad_output's first dimension is a batch of seeds; the gradients
    are stacked along a new first dimension (one backward per seed, as torch's vmap computes)."""
    outs = _seq(outputs)
    seeds: list[Any] = [_implicit(o) if g is None else g for o, g in zip(outs, _seeds(outs, grad_outputs))]
    for i, (o, g) in enumerate(zip(outs, seeds)):
        if not isinstance(g, Tensor) or g.ndim == 0:
            raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but "
                             "that input is a Tensor of dimensionality 0 so expected in_dim to satisfy "
                             "0 <= in_dim < 0.")
        if tuple(g.shape[1:]) != tuple(o.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                "the batch dimension. The sizes of the remaining dimensions are expected to match the "
                f"shape of corresponding output, but a mismatch was detected: grad_output[{i}] has a "
                f"shape of {list(g.shape[1:])} and output[{i}] has a shape of {list(o.shape)}.")
    sizes = {int(g.shape[0]) for g in seeds}
    if len(sizes) != 1:
        raise RuntimeError(f"vmap: Expected all tensors to have the same size in the mapped dimension, "
                           f"got sizes {sorted(sizes)} for the mapped dimension")
    n = sizes.pop()
    retain = create_graph if retain_graph is None else bool(retain_graph)
    rows = [grad(outputs, inputs, [g[k] for g in seeds], retain or k < n - 1, create_graph,
                 allow_unused=allow_unused, materialize_grads=materialize_grads) for k in range(n)]
    return tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows))


def _implicit(out: Tensor) -> Tensor:
    """torch's implicit seed (ones) of a one-element output."""
    if out.numel() != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    return Tensor._make(np.ones_like(out._data))


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """torch.autograd.backward; with ``inputs`` only those tensors' ``.grad`` accumulate."""
    if create_graph:
        _warn_reference_cycle()
    if inputs is not None:
        return _backward_into(_seq(tensors), grad_tensors, retain_graph, create_graph, _seq(inputs))
    outs = _seq(tensors)
    seeds = _seeds(outs, grad_tensors)
    retain = create_graph if retain_graph is None else bool(retain_graph)
    roots, grads = _roots(outs, seeds, create_graph)
    run_backward(roots, grads, retain, None, create_graph)


def _backward_into(outs: list, grad_tensors: Any, retain_graph: bool | None, create_graph: bool,
                   inputs: list) -> None:
    """backward(inputs=[...]): the gradients of those tensors only, added to their ``.grad``."""
    if not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    found = grad(outs, inputs, grad_tensors, retain_graph, create_graph, allow_unused=True)
    for t, g in zip(inputs, found):
        if g is None:
            continue
        if create_graph:
            t._grad = g if t._grad is None else t._grad + g
        else:
            t._accumulate_grad(g._data)


_CYCLE = ("Using backward() with create_graph=True will create a reference cycle between the parameter "
          "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
          "creating the graph to avoid this. If you have to use this function, make sure to reset the "
          ".grad fields of your parameters to None after use to break the cycle and avoid the leak.")
_warned: list[bool] = []


def _warn_reference_cycle() -> None:
    """torch's UserWarning for backward(create_graph=True), once per process as torch's engine."""
    if not _warned:
        _warned.append(True)
        warnings.warn(_CYCLE, UserWarning, stacklevel=3)
