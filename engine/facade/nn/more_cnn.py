"""The padding, resampling and 1-D siblings of the CNN modules, each a thin call of an existing
functional (F.pad, F.interpolate, F.pixel_unshuffle, F.conv_transpose1d, F.dropout1d semantics)
with torch's constructor arguments and repr."""

from __future__ import annotations

from typing import Any

from crossgrad.engine.numeric import functional_cnn as F
from crossgrad.engine.numeric.functional_cnn_more import dropout1d, pixel_unshuffle
from crossgrad.engine.numeric.nn import Module
from crossgrad.engine.numeric.tensor import Tensor
from crossgrad.nn.cnn import ConvTranspose2d, Dropout2d, Upsample
from crossgrad.nn.conv_options import output_padding


class _PadNd(Module):
    _nd, _mode = 2, "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = (int(padding),) * (2 * self._nd) if isinstance(padding, int) else tuple(padding)
        self.value = float(value)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode, self.value if self._mode == "constant" else None)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    _nd = 1

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    _nd = 2


class ZeroPad1d(_PadNd):
    _nd = 1

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(ZeroPad1d):
    _nd = 2


class ReflectionPad1d(_PadNd):
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    _nd, _mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    _nd, _mode = 2, "replicate"


class CircularPad1d(_PadNd):
    _nd, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    _nd, _mode = 2, "circular"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear with align_corners=True (torch's)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class ConvTranspose1d(ConvTranspose2d):
    _nd = 1

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding(self, input, output_size), self.groups, self.dilation)


class Dropout1d(Dropout2d):
    """Zero whole channels of (N, C, L) or (C, L) with probability p (scaling the rest by 1/(1-p))."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace)


__all__ = ["CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ConvTranspose1d", "Dropout1d",
           "PixelUnshuffle", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
           "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d"]
