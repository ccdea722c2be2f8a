"""F.pixel_unshuffle (the inverse of pixel_shuffle), composed of reshape and permute as torch's
definition: out[..., c r r + i r + j, h, w] = in[..., c, h r + i, w r + j]; F.dropout1d."""

from __future__ import annotations

from ..errors import ShapeError
from . import functional_cnn
from .tensor import Tensor
from .tensor_math import _renamed


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    r = int(downscale_factor)
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ShapeError("pixel_unshuffle", "pixel_unshuffle expects input to have at least 3 dimensions, but got "
                                            f"input with {len(shape)} dimension(s)")
    if r < 1:
        raise ShapeError("pixel_unshuffle", f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ShapeError("pixel_unshuffle", f"pixel_unshuffle expects {name} to be divisible by downscale_factor, "
                                                f"but input.size({dim})={size} is not divisible by {r}")
    k = len(lead)
    split = input.reshape(*lead, c, h // r, r, w // r, r)
    order = tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3)
    out = split.permute(*order).reshape(*lead, c * r * r, h // r, w // r)
    return _renamed(out, "PixelUnshuffleBackward0")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the rest by 1 / (1 - p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
                           "spatial dimension, a channel dimension, and an optional batch dimension "
                           "(i.e. 2D or 3D inputs).")
    if input.dim() == 2:
        out = functional_cnn.dropout2d(input.unsqueeze(0), p, training).squeeze(0)
        return input.copy_(out) if inplace and out is not input else out
    return functional_cnn.dropout2d(input, p, training, inplace)
