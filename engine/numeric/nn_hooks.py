"""Module forward hooks as torch.nn.Module has them: ``register_forward_pre_hook`` and
``register_forward_hook`` (``prepend``, ``with_kwargs``, ``always_call``), each returning a
``RemovableHandle`` (``remove()``, a context manager). A pre-hook may replace the positional
inputs (a non-tuple result is wrapped in a tuple), a forward hook the output; hooks run in
registration order (``prepend=True`` first) and see the module, its inputs and its output."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .nn import Module

_IDS = itertools.count()


class RemovableHandle:
    """Removes its hook from the dicts it was registered in (torch.utils.hooks.RemovableHandle)."""

    def __init__(self, *tables: OrderedDict, extra: OrderedDict | None = None) -> None:
        self.id = next(_IDS)
        self._tables, self._extra = tables, extra

    def remove(self) -> None:
        for table in (*self._tables, *([self._extra] if self._extra is not None else [])):
            table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _table(module: Module, name: str) -> OrderedDict:
    table = module.__dict__.get(name)
    if table is None:
        table = OrderedDict()
        object.__setattr__(module, name, table)
    return table


def _register(module: Module, name: str, hook: Callable, prepend: bool, with_kwargs: bool,
              always_call: bool = False) -> RemovableHandle:
    table, kwargs_set = _table(module, name), _table(module, name + "_with_kwargs")
    always = _table(module, "_forward_hooks_always_called")
    handle = RemovableHandle(table, kwargs_set, always)
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    if with_kwargs:
        kwargs_set[handle.id] = True
    if always_call:
        always[handle.id] = True
    return handle


def register_forward_pre_hook(self: Module, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
    return _register(self, "_forward_pre_hooks", hook, prepend, with_kwargs)


def register_forward_hook(self: Module, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                          always_call: bool = False) -> RemovableHandle:
    return _register(self, "_forward_hooks", hook, prepend, with_kwargs, always_call)


def _pre(self: Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    flagged = self.__dict__.get("_forward_pre_hooks_with_kwargs", {})
    for key, hook in list(self.__dict__.get("_forward_pre_hooks", {}).items()):
        if key in flagged:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
                args, kwargs = result
        else:
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _post(self: Module, args: tuple, kwargs: dict, output: Any, only_always: bool = False) -> Any:
    flagged = self.__dict__.get("_forward_hooks_with_kwargs", {})
    always = self.__dict__.get("_forward_hooks_always_called", {})
    for key, hook in list(self.__dict__.get("_forward_hooks", {}).items()):
        if only_always and key not in always:
            continue
        result = hook(self, args, kwargs, output) if key in flagged else hook(self, args, output)
        if result is not None:
            output = result
    return output


_PLAIN_CALL = Module.__call__


def _call(self: Module, *args: Any, **kwargs: Any) -> Any:
    """Module.__call__: the forward alone when no hook is registered (the common, fast path)."""
    if not self.__dict__.get("_forward_pre_hooks") and not self.__dict__.get("_forward_hooks"):
        return _PLAIN_CALL(self, *args, **kwargs)
    args, kwargs = _pre(self, args, kwargs)
    try:
        output = self.forward(*args, **kwargs)
    except Exception:
        if self.__dict__.get("_forward_hooks_always_called"):
            _post(self, args, kwargs, None, only_always=True)
        raise
    return _post(self, args, kwargs, output)


def install() -> None:
    Module.register_forward_pre_hook = register_forward_pre_hook  # type: ignore[attr-defined]
    Module.register_forward_hook = register_forward_hook  # type: ignore[attr-defined]
    Module.__call__ = _call  # type: ignore[method-assign]
