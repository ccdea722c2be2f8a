"""Capture a PyTorch computation as an ATen-level FX graph (``make_fx``, pre-dispatch).

Pre-dispatch ``make_fx`` records the ops PyTorch's dispatcher sees above autograd: composite
ops such as ``aten.linear`` and ``aten.cross_entropy_loss`` stay whole (the catalogue has
them), and a custom ``autograd.Function`` is traced through its ``forward`` (its ``backward``
never runs). Ops the mapping table lacks are decomposed by PyTorch's own decomposition
table, and the capture is repeated, until every op maps or one cannot be decomposed.
Parameters and buffers are explicit inputs (``torch.func.functional_call``), so each leaf
keeps its module name (``net.0.weight``).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.fx.experimental.proxy_tensor import make_fx
from torch.overrides import TorchFunctionMode

_SKIP = (os.path.dirname(torch.__file__), os.path.dirname(__file__), os.path.dirname(inspect.__file__))


@dataclass
class Captured:
    """The traced graph and, per placeholder, its leaf name, example value and requires_grad."""

    graph: torch.fx.GraphModule
    names: list[str]
    values: list[torch.Tensor]
    requires_grad: list[bool]
    constant_names: dict[int, str]  # id of a closed-over tensor or parameter -> its name in the user's code
    decomposed: tuple[str, ...] = ()  # ATen ops replaced by PyTorch's decompositions (bridge.convert)


def _closure(fn: Any) -> dict[str, Any]:
    try:
        found = inspect.getclosurevars(fn)
    except (TypeError, ValueError):
        return {}
    return {**found.globals, **found.nonlocals}


@contextlib.contextmanager
def buffers_kept(fn_or_module: Any) -> Iterator[None]:
    """Tracing runs the real computation: a module's in-place buffer updates (BatchNorm's running
    statistics) would change the user's model and could leave buffers attached to the trace's
    graph. Their values are restored afterwards."""
    modules = [fn_or_module] if isinstance(fn_or_module, torch.nn.Module) else \
        [v for v in _closure(fn_or_module).values() if isinstance(v, torch.nn.Module)]
    buffers = [b for m in modules for b in m.buffers()]
    saved = [b.detach().clone() for b in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, value in zip(buffers, saved):
                if b.requires_grad or not torch.equal(b, value):  # untouched buffers keep their version
                    b.detach_()
                    b.copy_(value)


def closure_names(fn: Any) -> dict[int, str]:
    """Names of the tensors ``fn`` closes over: ``net.0.weight`` for a module's parameters."""
    names: dict[int, str] = {}
    for var, value in _closure(fn).items():
        if isinstance(value, torch.nn.Module):
            names.update({id(t): f"{var}.{n}" for n, t in [*value.named_parameters(), *value.named_buffers()]})
        elif isinstance(value, torch.Tensor):
            names[id(value)] = var
    return names


def user_line(stack: Sequence[traceback.FrameSummary]) -> str:
    """The innermost frame of user code (outside torch, this package and the standard library)."""
    for frame in reversed(stack):
        if not frame.filename.startswith(_SKIP) and not frame.filename.startswith("<"):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line or ""}'.rstrip()
    return ""


class _SourceLines(TorchFunctionMode):
    """Tags every node recorded during a torch call with the user's line that made the call."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        from torch.fx import traceback as fx_traceback

        fx_traceback.set_stack_trace([user_line(traceback.extract_stack()[:-1])])
        return func(*args, **(kwargs or {}))


def input_names(fn: Callable[..., Any], example_inputs: Sequence[Any]) -> list[str]:
    """Input names from the signature of ``fn`` (``input0``... where it has none); for a custom
    ``Function.apply``, from its ``forward`` (after ``ctx`` unless it has a ``setup_context``)."""
    owner = getattr(fn, "__self__", None)
    function = isinstance(owner, type) and issubclass(owner, torch.autograd.Function)
    skip = int(function and getattr(owner, "setup_context", None) is torch.autograd.Function.setup_context)
    target: Any = getattr(owner, "forward", fn) if function else fn
    try:
        params = [p.name for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][skip:]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input{i}" for i in range(len(example_inputs))]


def _tensors_only(fn: Callable[..., Any], inputs: list[Any]) -> Callable[..., Any]:
    """``fn`` as a function of its tensor inputs; the others (ints, flags) are fixed at capture."""
    where = [i for i, v in enumerate(inputs) if isinstance(v, torch.Tensor)]

    def call(*tensors: Any) -> Any:
        args = list(inputs)
        for i, t in zip(where, tensors):
            args[i] = t
        return fn(*args)

    return call


def capture(fn_or_module: Any, example_inputs: Sequence[Any],
            decompositions: dict[Any, Callable[..., Any]]) -> Captured:
    """Trace ``fn_or_module(*example_inputs)`` into an FX graph of ATen ops (non-tensor inputs are
    constants of the trace)."""
    from torch.fx import traceback as fx_traceback

    inputs = list(example_inputs)
    tensors = [v for v in inputs if isinstance(v, torch.Tensor)]
    all_names = input_names(fn_or_module.forward if isinstance(fn_or_module, torch.nn.Module) else fn_or_module,
                            inputs)
    names = [n for n, v in zip(all_names, inputs) if isinstance(v, torch.Tensor)]
    if isinstance(fn_or_module, torch.nn.Module):
        module = fn_or_module
        params = dict(module.named_parameters())
        buffers = dict(module.named_buffers())
        def run(p: dict, b: dict, *xs: Any) -> Any:
            def forward(*ys: Any) -> Any:
                return torch.func.functional_call(module, {**p, **b}, tuple(ys))

            return _tensors_only(forward, inputs)(*xs)

        names = list(params) + list(buffers) + names
        values = list(params.values()) + list(buffers.values()) + tensors
        args: tuple[Any, ...] = (params, buffers, *tensors)
        target: Callable[..., Any] = run
    else:
        values, args, target = tensors, tuple(tensors), _tensors_only(fn_or_module, inputs)
    with buffers_kept(fn_or_module), fx_traceback.preserve_node_meta(), _SourceLines():
        graph = make_fx(target, decomposition_table=decompositions, pre_dispatch=True)(*args)
    return Captured(graph, names, [v.detach() for v in values], [bool(v.requires_grad) for v in values],
                    closure_names(fn_or_module))
