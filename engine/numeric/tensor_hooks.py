"""``Tensor.register_hook``: functions that see (and may replace) a tensor's gradient in backward.

As in torch: a hook on a non-leaf runs when the gradient with respect to that tensor is complete,
before its ``grad_fn`` passes it on (and before ``retain_grad`` stores it); a hook on a leaf runs
before the gradient is accumulated into ``.grad``. A hook returning a tensor replaces the
gradient (same shape); returning None keeps it. Hooks run in registration order, for
``backward`` and ``autograd.grad`` alike, and are removed with the returned handle.
Tables are keyed by the node's or leaf's id and dropped with it (weakref.finalize): Tensor
defines an elementwise ``==``, which a WeakKeyDictionary would call.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import HOOK_TABLES, AccumulateGrad
from .nn_hooks import RemovableHandle
from .tensor import Tensor

_TABLES = HOOK_TABLES  # id(grad_fn) of a non-leaf, or id(leaf tensor) -> hooks


def register_hook(self: Tensor, hook: Callable[[Tensor], Any]) -> RemovableHandle:
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    owner: Any = self.grad_fn if self.grad_fn is not None else self
    table = _TABLES.get(id(owner))
    if table is None:
        table = _TABLES[id(owner)] = OrderedDict()
        weakref.finalize(owner, _TABLES.pop, id(owner), None)
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def run(node: Any, grad: Any, create_graph: bool) -> Any:
    """The gradient arriving at ``node`` after its tensor's hooks (unchanged when it has none)."""
    owner = node.variable if type(node) is AccumulateGrad else node
    table = _TABLES.get(id(owner))
    if not table:
        return grad
    for hook in list(table.values()):
        out = hook(grad if create_graph else Tensor._make(grad))
        if out is None:
            continue
        if tuple(out.shape) != tuple(np.shape(grad._data if create_graph else grad)):
            raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the size of value")
        grad = out if create_graph else np.asarray(out._data)
    return grad


def install() -> None:
    Tensor.register_hook = register_hook  # type: ignore[attr-defined]
