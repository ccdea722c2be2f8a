"""nn.ParameterList / nn.ParameterDict, and the container methods torch code calls that crossgrad's
lacked (Sequential.insert/extend/pop, ModuleList.pop, ModuleDict.pop/clear): names and order as
torch's ("0", "1", ... renumbered after an insert or a pop, as torch renumbers them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .nn import Module, Parameter, Sequential
from .nn_layers import ModuleDict, ModuleList
from .tensor import Tensor


def _as_parameter(value: Any) -> Any:
    return value if isinstance(value, Parameter) or not isinstance(value, Tensor) else Parameter(value)


class ParameterList(Module):
    """Parameters registered as "0", "1", ... (a plain tensor becomes a Parameter, as torch's)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        for v in values or []:
            self.append(v)

    def append(self, value: Any) -> ParameterList:
        setattr(self, str(len(self)), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, i: int) -> Any:
        return getattr(self, list(self._parameters)[i])

    def __setitem__(self, i: int, value: Any) -> None:
        setattr(self, list(self._parameters)[i], _as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters.values())


class ParameterDict(Module):
    """Parameters by key, in insertion order."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        self.update(parameters or {})

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        for key, v in (parameters.items() if isinstance(parameters, Mapping) else parameters):
            self[key] = v

    def __getitem__(self, key: str) -> Any:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]
        object.__delattr__(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def keys(self) -> Iterable[str]:
        return self._parameters.keys()

    def values(self) -> Iterable[Any]:
        return self._parameters.values()

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._parameters.items()


def _renumber(container: Module, modules: list[Module]) -> None:
    for key in list(container._modules):
        del container._modules[key]
        object.__delattr__(container, key)
    for i, m in enumerate(modules):
        container.add_module(str(i), m)


def _insert(self: Module, index: int, module: Module) -> Module:
    modules = list(self._modules.values())
    n = len(modules)
    if not -n <= index <= n:
        raise IndexError(f"Index out of range: {index}")
    modules.insert(index if index >= 0 else index + n, module)
    _renumber(self, modules)
    return self


def _extend(self: Module, modules: Iterable[Module]) -> Module:
    for m in modules:
        self.add_module(str(len(self._modules)), m)
    return self


def _pop_numbered(self: Module, key: int) -> Module:
    modules = list(self._modules.values())
    out = modules.pop(key)
    _renumber(self, modules)
    return out


def _seq_setitem(self: Module, index: int, module: Module) -> None:
    setattr(self, list(self._modules)[index], module)


def _seq_delitem(self: Module, index: int | slice) -> None:
    modules = list(self._modules.values())
    del modules[index]
    _renumber(self, modules)


def _pop_key(self: ModuleDict, key: str) -> Module:
    out = self[key]
    del self[key]
    return out


def _clear(self: ModuleDict) -> None:
    for key in list(self._modules):
        del self[key]


def install() -> None:
    Sequential.insert = _insert  # type: ignore[attr-defined]
    Sequential.extend = _extend  # type: ignore[attr-defined]
    Sequential.pop = _pop_numbered  # type: ignore[attr-defined]
    setattr(Sequential, "__setitem__", _seq_setitem)  # noqa: B010 (a dunder set on the class)
    setattr(Sequential, "__delitem__", _seq_delitem)  # noqa: B010
    ModuleList.pop = _pop_numbered  # type: ignore[attr-defined]
    ModuleDict.pop = _pop_key  # type: ignore[attr-defined]
    ModuleDict.clear = _clear  # type: ignore[attr-defined]


__all__ = ["ParameterDict", "ParameterList"]
