"""The rest of torch.nn's everyday modules over crossgrad's functions (loss modules for every loss
function, Softmax/LogSoftmax/Softplus/ReLU6, CosineSimilarity, Unflatten) and torch's container
conveniences (Sequential slicing/append, ModuleList.insert, get_submodule, Embedding.from_pretrained)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from . import functional as F
from . import functional_elementwise as E
from .nn import Module, Parameter, ReLU, Sequential
from .nn_layers import Embedding, ModuleList
from .tensor import Tensor
from .tensor_compat import log_softmax, softmax


def _api(name: str) -> Any:
    return getattr(importlib.import_module("crossgrad.nn.functional"), name)


class _Loss(Module):
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            raise NotImplementedError("size_average and reduce are deprecated in torch; use reduction=")
        self.reduction = reduction


class L1Loss(_Loss):
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _api("l1_loss")(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _api("nll_loss")(input, target, weight=self.weight, ignore_index=self.ignore_index,
                                reduction=self.reduction)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _api("smooth_l1_loss")(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _api("huber_loss")(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _api("kl_div")(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _api("binary_cross_entropy")(input, target, weight=self.weight, reduction=self.reduction)


class CosineSimilarity(Module):
    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return _api("cosine_similarity")(x1, x2, self.dim, self.eps)


class Softmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input: Tensor) -> Tensor:
        return log_softmax(input, self.dim)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ReLU6(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return E.hardtanh(input, 0.0, 6.0)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Unflatten(Module):
    def __init__(self, dim: int, unflattened_size: Iterable[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = list(input.shape)
        d = self.dim % len(shape)
        return input.reshape(tuple(shape[:d]) + self.unflattened_size + tuple(shape[d + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class _Pool1d(Module):
    """A 1-d pooling module over crossgrad.nn.functional's 1-d pools (torch's attribute names)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, **kwargs: Any) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.options = kwargs

    def extra_repr(self) -> str:
        more = "".join(f", {k}={v}" for k, v in self.options.items())
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}{more}"


class MaxPool1d(_Pool1d):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, dilation=dilation, ceil_mode=ceil_mode)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return _api("max_pool1d")(input, self.kernel_size, self.stride, self.padding, self.options["dilation"],
                                  self.options["ceil_mode"], self.return_indices)


class AvgPool1d(_Pool1d):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        def single(v: Any) -> tuple:
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)

        super().__init__(single(kernel_size), None if stride is None else single(stride), single(padding))
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return _api("avg_pool1d")(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                  self.count_include_pad)


class _Adaptive(Module):
    _fn = ""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:
        if self.return_indices:
            return _api(self._fn)(input, self.output_size, True)
        return _api(self._fn)(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_Adaptive):
    _fn = "adaptive_avg_pool1d"


class AdaptiveMaxPool1d(_Adaptive):
    _fn = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_Adaptive):
    _fn = "adaptive_max_pool2d"


def _relu_init(self: ReLU, inplace: bool = False) -> None:
    Module.__init__(self)
    self.inplace = inplace


def _identity_init(self: Module, *args: Any, **kwargs: Any) -> None:
    """nn.Identity accepts and ignores any arguments, as torch's."""
    Module.__init__(self)


def _seq_getitem(self: Sequential, i: Any) -> Any:
    items = list(self._modules.items())
    if isinstance(i, slice):
        out = Sequential()
        for name, m in items[i]:
            out.add_module(name, m)
        return out
    return items[i][1]


def _seq_append(self: Sequential, module: Module) -> Sequential:
    self.add_module(str(len(self._modules)), module)
    return self


def _list_insert(self: ModuleList, index: int, module: Module) -> None:
    items = list(self._modules.values())
    items.insert(index if index >= 0 else len(items) + index, module)
    for name in list(self._modules):
        object.__delattr__(self, name)
    self._modules.clear()
    for m in items:
        self.append(m)


def get_submodule(self: Module, target: str) -> Module:
    module = self
    for part in [p for p in target.split(".") if p]:
        if part not in module._modules:
            raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
        module = module._modules[part]
    return module


def _member(table: str, kind: str) -> Any:
    def get(self: Module, target: str) -> Any:
        path, _, name = target.rpartition(".")
        owner = get_submodule(self, path)
        if name not in getattr(owner, table):
            raise AttributeError(f"`{name}` is not a {kind}")
        return getattr(owner, table)[name]

    return get


def _from_pretrained(cls: type, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                     **kwargs: Any) -> Embedding:
    """An Embedding whose weight is (a parameter sharing) ``embeddings``; frozen by default."""
    rows, cols = embeddings.shape
    emb = cls(rows, cols, padding_idx=padding_idx)
    emb.weight = Parameter(embeddings.detach(), requires_grad=not freeze)
    return emb


ReLU.__init__ = _relu_init  # type: ignore[method-assign,assignment]
ReLU.extra_repr = lambda self: "inplace=True" if getattr(self, "inplace", False) else ""  # type: ignore[method-assign]
Sequential.__getitem__ = _seq_getitem  # type: ignore[method-assign]
Sequential.append = _seq_append  # type: ignore[attr-defined]
ModuleList.insert = _list_insert  # type: ignore[attr-defined]
Module.get_submodule = get_submodule  # type: ignore[attr-defined]
Module.get_parameter = _member("_parameters", "nn.Parameter")  # type: ignore[attr-defined]
Module.get_buffer = _member("_buffers", "buffer")  # type: ignore[attr-defined]
Embedding.from_pretrained = classmethod(_from_pretrained)  # type: ignore[attr-defined]

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d", "BCELoss",
    "CosineSimilarity", "HuberLoss", "KLDivLoss", "L1Loss", "LogSoftmax", "NLLLoss", "ReLU6", "SmoothL1Loss",
    "Softmax", "Softplus", "Unflatten",
]
