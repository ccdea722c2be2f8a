"""torch's convolution-module options beyond zero padding: ``padding_mode`` (reflect, replicate,
circular: the input padded by F.pad, then an unpadded convolution, as torch's _ConvNd does) and a
transposed convolution's ``output_size`` (turned into output_padding by torch's rule)."""

from __future__ import annotations

from typing import Any

from crossgrad.engine.numeric import functional_cnn as F
from crossgrad.engine.numeric.tensor import Tensor

MODES = ("zeros", "reflect", "replicate", "circular")


def check_mode(padding_mode: str, transposed: bool, name: str) -> None:
    """torch's ValueErrors for an unknown mode, and for any mode but zeros on a transposed conv."""
    if padding_mode not in MODES:
        raise ValueError(f"padding_mode must be one of {set(MODES)}, but got padding_mode='{padding_mode}'")
    if transposed and padding_mode != "zeros":
        raise ValueError(f'Only "zeros" padding mode is supported for {name}')


def _pads(module: Any) -> list[int]:
    """F.pad's list (last dim first) for the module's padding; 'same' splits d (k - 1) as torch."""
    if module.padding == "same":
        total = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
        pairs = [(t // 2, t - t // 2) for t in total]
    else:
        pairs = [(p, p) for p in module.padding]
    return [v for lo, hi in reversed(pairs) for v in (lo, hi)]


def padded(module: Any, input: Tensor) -> tuple[Tensor, Any]:
    """(the input to convolve, the padding to pass on) for the module's padding_mode."""
    if module.padding_mode == "zeros" or module.padding == "valid":
        return input, module.padding
    return F.pad(input, _pads(module), module.padding_mode), 0


def output_padding(module: Any, input: Tensor, output_size: Any) -> tuple[int, ...]:
    """torch's _ConvTransposeNd._output_padding: the output_padding giving ``output_size``."""
    nd = module._nd
    if output_size is None:
        return tuple(module.output_padding)
    lead = 2 if input.dim() == nd + 2 else 1
    size = [int(s) for s in output_size]
    if len(size) == lead + nd:
        size = size[lead:]
    if len(size) != nd:
        raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must have {nd} "
                         f"or {lead + nd} elements (got {len(size)})")
    low = [(input.shape[lead + d] - 1) * module.stride[d] - 2 * module.padding[d]
           + module.dilation[d] * (module.kernel_size[d] - 1) + 1 for d in range(nd)]
    high = [lo + s - 1 for lo, s in zip(low, module.stride)]
    if any(not lo <= s <= hi for s, lo, hi in zip(size, low, high)):
        raise ValueError(f"requested an output size of {size}, but valid sizes range from {low} to "
                         f"{high} (for an input of {list(input.shape[lead:])})")
    return tuple(s - lo for s, lo in zip(size, low))
