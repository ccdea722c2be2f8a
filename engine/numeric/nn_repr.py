"""torch's module reprs (extra_repr) for the activation, pooling, normalization and convolution
modules, and ModuleList's grouping of repeated entries ("(0-1): 2 x Linear(...)")."""

from __future__ import annotations

import importlib
from typing import Any

from .nn import Module
from .nn_activations import ELU, GELU, Hardtanh, Identity, LeakyReLU
from .nn_layers import ModuleList


def _inplace(self: Any) -> str:
    return ", inplace=True" if getattr(self, "inplace", False) else ""


def _conv(self: Any) -> str:
    """torch's _ConvNd.extra_repr: only what differs from the defaults after stride."""
    s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
    pad = self.padding
    if isinstance(pad, str) or pad != (0,) * len(pad):
        s += f", padding={pad}"
    if self.dilation != (1,) * len(self.dilation):
        s += f", dilation={self.dilation}"
    if getattr(self, "_transposed", False) and self.output_padding != (0,) * len(self.output_padding):
        s += f", output_padding={self.output_padding}"
    if self.groups != 1:
        s += f", groups={self.groups}"
    if self.bias is None:
        s += ", bias=False"
    if getattr(self, "padding_mode", "zeros") != "zeros":
        s += f", padding_mode={self.padding_mode}"
    return s


def _max_pool(self: Any) -> str:
    stride = self.kernel_size if self.stride is None else self.stride
    return (f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


def _avg_pool(self: Any) -> str:
    stride = self.kernel_size if self.stride is None else self.stride
    return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


def _batch_norm(self: Any) -> str:
    return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


def _group_norm(self: Any) -> str:
    return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}")


def _upsample(self: Any) -> str:
    scale = self.scale_factor
    if scale is not None:
        scale = tuple(float(s) for s in scale) if isinstance(scale, (tuple, list)) else float(scale)
        info = f"scale_factor={scale!r}"
    else:
        info = f"size={self.size!r}"
    return info + f", mode={self.mode!r}"


def _module_list_repr(self: ModuleList) -> str:
    """Consecutive equal entries grouped as torch prints them."""
    items = [repr(m) for m in self._modules.values()]
    if not items:
        return "ModuleList()"
    lines, start = [], 0
    while start < len(items):
        end = start
        while end + 1 < len(items) and items[end + 1] == items[start]:
            end += 1
        label = f"({start})" if end == start else f"({start}-{end}): {end - start + 1} x"
        sep = ": " if end == start else " "
        lines.append(label + sep + items[start].replace("\n", "\n  "))
        start = end + 1
    return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


def _install() -> None:
    cnn = importlib.import_module("crossgrad.nn.cnn")
    table: dict[Any, Any] = {
        GELU: lambda self: f"approximate={self.approximate!r}",
        LeakyReLU: lambda self: f"negative_slope={self.negative_slope}" + _inplace(self),
        ELU: lambda self: f"alpha={self.alpha}" + _inplace(self),
        Hardtanh: lambda self: f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self),
        cnn._ConvNd: _conv, cnn.MaxPool2d: _max_pool, cnn.AvgPool2d: _avg_pool,
        cnn.AdaptiveAvgPool2d: lambda self: f"output_size={self.output_size}",
        cnn._BatchNorm: _batch_norm, cnn.GroupNorm: _group_norm, cnn.Upsample: _upsample,
        cnn.Dropout2d: lambda self: f"p={self.p}, inplace={getattr(self, 'inplace', False)}",
        cnn.PixelShuffle: lambda self: f"upscale_factor={self.upscale_factor}",
    }
    for cls, fn in table.items():
        cls.extra_repr = fn
    ModuleList.__repr__ = _module_list_repr  # type: ignore[method-assign,assignment]
    Identity.__init__ = lambda self, *args, **kwargs: Module.__init__(self)  # type: ignore[method-assign]
