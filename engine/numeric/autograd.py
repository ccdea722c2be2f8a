"""Graph nodes (``grad_fn``), grad mode, and the one backward walker.

A non-leaf tensor points at the :class:`Node` that made it; a node's ``next_functions``
point at the nodes of its inputs, ending in :class:`AccumulateGrad` for leaves that require
grad. ``backward`` walks that DAG iteratively in topological order (Kahn), so depth is
unbounded by Python's recursion limit.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..allocator import keep_freed_memory

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _mode.enabled


class set_grad_enabled:
    """Set grad mode; works as a plain call, a context manager and a decorator, as in torch."""

    def __init__(self, mode: bool) -> None:
        self.prev = _mode.enabled
        self.mode = bool(mode)
        _mode.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        _mode.enabled = self.prev  # used as a decorator: do not change the mode now
        mode = self.mode

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        return wrapper


class _GradModeContext:
    """Base of no_grad / enable_grad: a context manager and a decorator."""

    mode = True

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        """``@no_grad`` without parentheses decorates ``func`` directly, as torch 2.x allows."""
        self = super().__new__(cls)
        return self(func) if callable(func) else self

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        pass

    def __enter__(self) -> None:
        self.prev = _mode.enabled
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self.mode

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _mode.enabled
            _mode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _mode.enabled = prev

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        return wrapper


class no_grad(_GradModeContext):
    """Results computed inside do not require grad and have no grad_fn."""

    mode = False


class enable_grad(_GradModeContext):
    mode = True


Vjp = Callable[[np.ndarray, Any, "Node"], Sequence[np.ndarray | None]]


class Metadata(str):
    """A node's saved value that is not a tensor (a dtype name): kept after backward, as torch keeps
    a node's non-tensor attributes, so a second backward through that node alone is allowed."""


class Node:
    """A recorded op: what backward needs to turn the output's gradient into the inputs'."""

    __slots__ = ("op", "vjp", "saved", "freed", "shapes", "attrs", "needs",
                 "next_functions", "consts", "retained", "inputs", "out", "__weakref__")

    def __init__(self, op: str, vjp: Vjp, saved: Any, shapes: tuple, attrs: dict,
                 needs: tuple[bool, ...], next_functions: tuple, consts: tuple = ()) -> None:
        self.op = op
        self.vjp = vjp
        self.saved = saved
        self.freed = False
        self.shapes = shapes
        self.attrs = attrs
        self.needs = needs
        self.next_functions = next_functions
        self.consts = consts  # per input: its array if it needs no grad (for graph export)
        self.retained: weakref.ref | None = None
        self.inputs: tuple | None = None  # input tensors and output array, kept only when
        self.out: Any = None  # values are saved, for create_graph to substitute live tensors

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def release(self) -> None:
        """Free saved values, as PyTorch does after a backward without retain_graph."""
        if self.saved is not None and not isinstance(self.saved, Metadata):
            self.saved = None
            self.inputs = self.out = None
            self.freed = True

    def apply(self, grad: np.ndarray) -> Sequence[np.ndarray | None]:
        if self.freed:
            raise RuntimeError(SECOND_BACKWARD)
        return self.vjp(grad, self.saved, self)


class AccumulateGrad:
    """The sink of a leaf that requires grad: adds the incoming gradient into ``.grad``.

    It holds its leaf strongly (the graph keeps the leaf alive, as in PyTorch); the leaf
    points back only weakly, so no cycle forms.
    """

    __slots__ = ("variable", "__weakref__")
    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


_NODE_CLASSES: dict[str, type[Node]] = {}


def node_class(grad_fn_name: str) -> type[Node]:
    """A Node subclass per PyTorch grad_fn name, so ``type(t.grad_fn).__name__`` matches."""
    cls = _NODE_CLASSES.get(grad_fn_name)
    if cls is None:
        cls = type(grad_fn_name, (Node,), {"__slots__": ()})
        _NODE_CLASSES[grad_fn_name] = cls
    return cls


def _dependencies(roots: Iterable[Any], parents: dict[Any, list[Any]] | None = None) -> dict[Any, int]:
    """How many edges reach each node from the roots (iterative DFS); each node's parents too
    when a dict is given."""
    deps: dict[Any, int] = {}
    stack = list(dict.fromkeys(roots))  # a root given twice has its edges counted once
    seen = set(stack)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if parents is not None:
                parents.setdefault(nxt, []).append(node)
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps


def _leading_to(parents: dict[Any, list[Any]], targets: Iterable[Any]) -> set[Any]:
    """The nodes with an edge path to some target: autograd.grad runs only those (as torch's
    engine does), so a branch that leads to no input is neither computed nor freed."""
    found: set[Any] = set()
    stack = list(targets)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def run_backward(roots: Sequence[Any], grads: Sequence[Any], retain_graph: bool,
                 capture: dict[Any, int] | None = None,
                 create_graph: bool = False) -> list[Any]:
    """Propagate ``grads`` from ``roots`` to every reachable node.

    Without ``capture`` leaf gradients accumulate into ``.grad``. With ``capture`` (node ->
    position), the gradients arriving at those nodes are returned and no ``.grad`` changes.
    With ``create_graph`` the gradients are Tensors and every VJP is recorded (grad mode on).
    """
    keep_freed_memory()  # a training step's multi-MB temporaries would page-fault in every step
    if create_graph:
        prev, _mode.enabled = _mode.enabled, True
        try:
            return _walk(roots, grads, retain_graph, capture, True)
        finally:
            _mode.enabled = prev
    return _walk(roots, grads, retain_graph, capture, False)


# Tensor.register_hook's tables (tensor_hooks.py): id(grad_fn) or id(leaf) -> hooks; empty costs nothing
HOOK_TABLES: dict[int, Any] = {}


def _hook_runner() -> Callable[[Any, Any, bool], Any]:
    from .tensor_hooks import run

    return run


def _walk(roots: Sequence[Any], grads: Sequence[Any], retain_graph: bool,
          capture: dict[Any, int] | None, create_graph: bool) -> list[Any]:
    parents: dict[Any, list[Any]] | None = None if capture is None else {}
    deps = _dependencies(roots, parents)
    pending: dict[Any, np.ndarray] = {}
    for root, grad in zip(roots, grads):
        pending[root] = pending[root] + grad if root in pending else grad
    ready = [r for r in dict.fromkeys(roots) if deps.get(r, 0) == 0]
    captured: list[np.ndarray | None] = [None] * (len(capture) if capture else 0)
    through = None if parents is None else _leading_to(parents, capture or ())
    stored: set[int] = set()
    owned: dict[int, np.ndarray] = {}  # pending arrays no one else holds (may be added into)
    run_hooks = _hook_runner() if HOOK_TABLES else None
    while ready:
        node = ready.pop()
        grad = pending.pop(node)
        owned.pop(id(grad), None)
        if run_hooks is not None:
            grad = run_hooks(node, grad, create_graph)
        if capture is not None and node in capture:
            captured[capture[node]] = grad
        if through is not None and node not in through:  # no input behind it: neither run nor freed
            _skip_subgraph(node, deps, pending, ready)
            continue
        if type(node) is AccumulateGrad:
            if capture is None:
                _store(node.variable, grad, stored, create_graph)
            continue
        _deliver(node, grad, retain_graph, capture, stored, pending, deps, ready, create_graph, owned)
    return captured


# A VJP function -> add(g, node, total): that VJP's input gradient added into ``total`` in place.
# Only for VJPs whose single input gradient is a new array (select and slice, registered by
# rules.py): a split's pieces then add into one array instead of each embedding into zeros and the
# pieces being summed. Keyed by the function, so a replaced rule is not bypassed.
ADDS_INTO: dict[Callable, Callable[[np.ndarray, Any, np.ndarray], None]] = {}
_ADDED = object()


def _deliver(node: Node, grad: Any, retain_graph: bool, capture: dict | None,
             stored: set[int], pending: dict, deps: dict, ready: list,
             create_graph: bool = False, owned: dict | None = None) -> None:
    """Run one node's VJP and hand the input gradients to the next nodes."""
    if node.retained is not None and capture is None:
        _store(node.retained(), grad, stored, create_graph)
    add_into = None if create_graph or owned is None else ADDS_INTO.get(node.vjp)
    if create_graph:
        from .higher import run_vjp

        input_grads: Sequence[Any] = run_vjp(node, grad)
    elif add_into is not None and owned is not None and _added_into(add_into, node, grad, pending, owned):
        input_grads = (_ADDED,)
    else:
        input_grads = node.apply(grad)
    if not retain_graph:
        node.release()
    for (nxt, _), g in zip(node.next_functions, input_grads):
        if nxt is None:
            continue
        if g is not None and g is not _ADDED:
            prev = pending.get(nxt)
            total = pending[nxt] = g if prev is None else prev + g
            if owned is not None and (prev is not None or add_into is not None):
                owned.pop(id(prev), None)
                owned[id(total)] = total  # a sum made here, or a registered VJP's new array
        deps[nxt] -= 1
        if deps[nxt] == 0 and nxt in pending:
            ready.append(nxt)
        elif deps[nxt] == 0:
            _skip_subgraph(nxt, deps, pending, ready)


def _added_into(add: Callable, node: Node, grad: Any, pending: dict, owned: dict) -> bool:
    """Add the node's input gradient into the pending sum in place when that sum is ours alone."""
    nxt = node.next_functions[0][0]
    total = None if nxt is None else pending.get(nxt)
    if total is None or owned.get(id(total)) is not total or type(grad) is not np.ndarray:
        return False
    if total.shape != node.shapes[0] or total.dtype != grad.dtype:
        return False
    if node.freed:
        raise RuntimeError(SECOND_BACKWARD)
    add(grad, node, total)
    return True


def _skip_subgraph(node: Any, deps: dict, pending: dict, ready: list) -> None:
    """A node that received no gradient at all: release its children's dependency counts."""
    stack = [node]
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is None:
                continue
            deps[nxt] -= 1
            if deps[nxt] == 0:
                (ready if nxt in pending else stack).append(nxt)


def _store(tensor: Any, grad: Any, stored: set[int], create_graph: bool = False) -> None:
    """Accumulate into ``tensor.grad``, copying a gradient array that is not ours alone."""
    if tensor is None:
        return
    if create_graph:  # a Tensor with history: kept as is, summed out of place (as torch)
        tensor._grad = grad if tensor._grad is None else tensor._grad + grad
        return
    if grad.base is not None or not grad.flags.writeable or id(grad) in stored:
        grad = grad.copy()
    stored.add(id(grad))
    tensor._accumulate_grad(grad)
