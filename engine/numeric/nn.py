"""``crossgrad.nn``: Module, Parameter and the layers and losses of the seed network."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from . import creation, dtypes
from . import functional as F
from .autograd import no_grad
from .tensor import Tensor, clear_grad


class Parameter(Tensor):
    """A leaf tensor that a Module registers; requires grad by default."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        super().__init__([] if data is None else data, requires_grad=requires_grad)
        if isinstance(data, Tensor):
            self._data = data._data  # shares memory with data, as torch.nn.Parameter does

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) returns, as torch's ``_IncompatibleKeys``."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _type_name(value: Any) -> str:
    """torch's name for a value's type in its assignment errors ('torch.FloatTensor')."""
    if isinstance(value, Tensor):
        return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "int64": "torch.LongTensor",
                "bool": "torch.BoolTensor"}.get(value.dtype.name, "torch.Tensor")
    return type(value).__name__


class Module:
    """Base class: attribute assignment registers parameters and submodules, in order;
    ``register_buffer`` adds state that is saved but not trained (torch's buffers)."""

    _parameters: OrderedDict[str, Parameter]
    _modules: OrderedDict[str, Module]
    training: bool
    _buffers: OrderedDict[str, Tensor | None]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign before Module.__init__() call")
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Parameter):  # a replaced member keeps its place in torch's order
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif value is not None and name in self._parameters:
            raise TypeError(f"cannot assign {_type_name(value)!r} as parameter {name!r} "
                            "(torch.nn.Parameter or None expected)")
        elif value is not None and name in self._modules:
            raise TypeError(f"cannot assign {_type_name(value)!r} as child module {name!r} "
                            "(torch.nn.Module or None expected)")
        elif value is None and (name in self._parameters or name in self._modules):
            table: dict[str, Any] = self._parameters if name in self._parameters else self._modules
            table[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        if not persistent:  # a buffer state_dict leaves out, as torch's
            self.__dict__.setdefault("_non_persistent", set()).add(name)
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        setattr(self, name, module)
        if module is None:
            self._modules[name] = None  # type: ignore[assignment]

    register_module = add_module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def _named(self, table: str, prefix: str, recurse: bool, unique: bool = True) -> Iterator[tuple[str, Any]]:
        """Members of one table (_parameters/_buffers) in torch's order, each object once (unless
        ``remove_duplicate=False``: then under every name it has)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=unique) if recurse else iter([(prefix, self)])
        for name, module in modules:
            for key, t in getattr(module, table).items():
                if t is not None and (not unique or id(t) not in seen):
                    seen.add(id(t))
                    yield (f"{name}.{key}" if name else key), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def named_modules(self, memo: set[Any] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = {id(m) for m in memo} if memo else set()
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:  # a module registered twice is listed once, as in torch
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Per module (pre-order): its parameters, then its buffers — torch's keys and order."""
        out: OrderedDict[str, Tensor] = OrderedDict()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # no dedup: a module registered twice appears under both names, as in torch
            name, module = stack.pop()
            skip = module.__dict__.get("_non_persistent", ())
            for table in (module._parameters, module._buffers):
                out.update((name + k, t if keep_vars else t.detach()) for k, t in table.items()
                           if t is not None and k not in skip)
            stack.extend(reversed([(f"{name}{k}.", m) for k, m in module._modules.items() if m is not None]))
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy tensors or numpy arrays into the parameters and buffers, in place, with torch's errors."""
        own = self.state_dict()
        optional = {f"{name}.{key}" if name else key for name, m in self.named_modules()
                    for key in getattr(m, "_optional_state", ())}  # kept as they are when absent (torch's v1 loading)
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        errors = [f"size mismatch for {k}: copying a param with shape {list(np.shape(state_dict[k]))}"
                  f" from checkpoint, the shape in current model is {list(p.shape)}."
                  for k, p in own.items() if k in state_dict and tuple(np.shape(state_dict[k])) != p.shape]
        if strict and missing:
            errors.insert(0, f"Missing key(s) in state_dict: {_quoted(missing)}. ")
        if strict and unexpected:
            errors.insert(0, f"Unexpected key(s) in state_dict: {_quoted(unexpected)}. ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for k, p in own.items():
                if k in state_dict:
                    p.copy_(state_dict[k])
        return IncompatibleKeys(missing, unexpected)

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``model.to("cpu")`` is a no-op; ``model.to(dtype)`` converts parameters and floating buffers."""
        for t in [*self.parameters(), *self.buffers()]:
            if t.dtype.is_floating_point:
                t._data = _cast(t, args, kwargs)
        return self

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def cpu(self) -> Module:
        return self

    def half(self) -> Module:
        raise TypeError("crossgrad has no float16 (its dtypes are float32, float64, int64 and bool)")

    def apply(self, fn: Any) -> Module:
        """fn on every submodule (children first), then on self, as torch's apply."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            clear_grad(p, set_to_none)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """torch's layout: extra_repr's lines, then each child indented; one extra line alone inline."""
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        if not children and len(extra) <= 1:
            return f"{type(self).__name__}({''.join(extra)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(extra + children) + "\n)"


def _cast(t: Tensor, args: tuple, kwargs: dict) -> np.ndarray:
    """A parameter's data in the dtype ``to`` asks for (the leaf stays the same object, as in torch)."""
    with no_grad():
        return t.detach().to(*args, **kwargs)._data


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{k}"' for k in keys)


class Linear(Module):
    """y = x W^T + b, initialised as PyTorch does: U(-1/sqrt(in), 1/sqrt(in)) for both."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_kaiming_uniform((out_features, in_features), dtype))
        self.bias = Parameter(_bias_uniform(out_features, in_features, dtype)) if bias else None

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _kaiming_uniform(shape: tuple[int, ...], dtype: Any) -> Tensor:
    """reset_parameters' kaiming_uniform_(weight, a=sqrt(5)) with torch's float steps, so torch's
    numbers under the same seed; a zero-element weight draws nothing (torch's no-op)."""
    if 0 in shape:
        return creation.zeros(*shape, dtype=dtype)
    fan_in = shape[1] * math.prod(shape[2:])
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
    bound = math.sqrt(3.0) * (gain / math.sqrt(fan_in))
    return Tensor._make(creation._uniform(shape, -bound, bound, creation._float(dtype), None))


def _bias_uniform(n: int, fan_in: int, dtype: Any) -> Tensor:
    """reset_parameters' bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn after the weight."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return Tensor._make(creation._uniform((n,), -bound, bound, creation._float(dtype), None))


class ReLU(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):  # Sequential(OrderedDict(...))
            for name, m in modules[0].items():
                self.add_module(name, m)
            return
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class CrossEntropyLoss(Module):
    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.weight, self.ignore_index = weight, ignore_index
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class BCEWithLogitsLoss(Module):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__()
        self.weight, self.reduction, self.pos_weight = weight, reduction, pos_weight

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class MSELoss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)
