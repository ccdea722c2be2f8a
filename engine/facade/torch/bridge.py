"""``from_torch``: a PyTorch function or module and example inputs -> a CheckRequest."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from crossgrad.engine.check import CheckRequest

from .build import Builder, UnsupportedOpError, _floating
from .capture import Captured, capture

MAX_ROUNDS = 8  # decomposition rounds before giving up (each round decomposes every unmapped op)


@functools.cache
def _core(make: Callable[[], Any]) -> dict[Any, Callable[..., Any]]:
    return dict(make())


def _decomposition(op: Any) -> Callable[..., Any] | None:
    """PyTorch's decomposition of ``op``: into core ATen ops if it has one, else any table entry
    (which may use prims), else its CompositeImplicit kernel."""
    from torch._decomp import core_aten_decompositions, decomposition_table

    for table in (_core(core_aten_decompositions), decomposition_table):
        if op in table:
            return table[op]
    if isinstance(op, torch._ops.OpOverload) and op.has_kernel_for_dispatch_key(
            torch._C.DispatchKey.CompositeImplicitAutograd):
        return op.decompose
    return None


def convert(fn_or_module: Any, example_inputs: Sequence[torch.Tensor]) -> tuple[Captured, Builder, list[str]]:
    """Capture, decomposing unmapped ops until every op maps; the builder holds the nodes."""
    table: dict[Any, Callable[..., Any]] = {}
    rng_state = torch.get_rng_state()  # a dropout mask is the one drawn from here (values.py)
    for _ in range(MAX_ROUNDS):
        captured = capture(fn_or_module, example_inputs, dict(table))
        builder = Builder(captured, rng_state)
        outputs = builder.convert()
        if not builder.unsupported:
            captured.decomposed = tuple(str(op) for op in table)
            return captured, builder, outputs
        for name, (op, source) in builder.unsupported.items():
            found = _decomposition(op)
            if found is None or op in table:
                raise UnsupportedOpError(name, source)
            table[op] = found
    name, (_, source) = next(iter(builder.unsupported.items()))
    raise UnsupportedOpError(name, source, f"still unmapped after {MAX_ROUNDS} decomposition rounds")


def from_torch(fn_or_module: Any, example_inputs: Sequence[torch.Tensor] | torch.Tensor,
               seed: Any = None, **options: Any) -> CheckRequest:
    """The computation ``fn_or_module(*example_inputs)`` as a crossgrad CheckRequest.

    Leaves: the module's parameters (``net.0.weight``) and buffers, then the inputs (named after
    the function's parameters), with their values, dtypes and requires_grad. A non-scalar output
    is checked along ``seed`` (default: all ones, as ``out.sum().backward()``); several outputs
    are summed (integer and bool outputs, such as indices, are left out). ``options`` go to
    CheckRequest (tier, tolerance, claimed, ...).
    """
    return request_and_builder(fn_or_module, example_inputs, seed, **options)[0]


def request_and_builder(fn_or_module: Any, example_inputs: Sequence[torch.Tensor] | torch.Tensor,
                        seed: Any = None, **options: Any) -> tuple[CheckRequest, Builder]:
    """:func:`from_torch`, and the builder that knows which closed-over tensors became leaves."""
    inputs = [example_inputs] if isinstance(example_inputs, torch.Tensor) else list(example_inputs)
    _, builder, outputs = convert(fn_or_module, inputs)
    outputs = [n for n in outputs if _floating(builder.dtypes.get(n))]  # indices, masks: nothing to differentiate
    if not outputs:
        raise ValueError("from_torch: the computation has no floating-point output to differentiate")
    graph = builder.graph(outputs)
    if seed is None and len(outputs) == 1 and builder.shape(outputs[0]) != ():
        seed = np.ones(builder.shape(outputs[0]))
    seed = None if seed is None else np.asarray(seed.detach() if isinstance(seed, torch.Tensor) else seed, np.float64)
    return CheckRequest(graph, seed, **options), builder
