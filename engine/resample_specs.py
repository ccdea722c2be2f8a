"""Catalogue entries for pad, interpolate (nearest, bilinear) and pixel_shuffle, and the index
geometry both interpretations read (which input element, or which two with what weight, feeds
each output element — torch's rules). No derivative lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import RankNotSupported, ShapeError
from .ops import Attr, Case, Input, OpSpec

PAD_MODES = ("constant", "reflect", "replicate")


def pad_pairs(op: str, x: Sequence[int], pad: Sequence[int]) -> list[tuple[int, int]]:
    """torch's pad tuple (last dim first) as numpy's per-dim (before, after) pairs."""
    if len(pad) % 2 or len(pad) // 2 > len(x):
        raise ShapeError(op, f"pad {list(pad)} must have an even length of at most {2 * len(x)} for input "
                             f"of shape {list(x)}")
    pairs = [(0, 0)] * len(x)
    for k in range(len(pad) // 2):
        pairs[len(x) - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return pairs


def check_pad_rank(op: str, x: Sequence[int], at: dict) -> None:
    """Non-constant modes pad the last k = 1, 2, 3 dims of a (k + 1)-D or (k + 2)-D input."""
    k = len(at["pad"]) // 2
    if k not in (1, 2, 3) or len(x) not in (k + 1, k + 2):
        raise RankNotSupported(op, f"Padding size {len(at['pad'])} is not supported for {len(x)}D input tensor "
                                   f"(shape {list(x)}): {at['mode']} padding of the last k dims takes a (k + 1)-D "
                                   "unbatched or (k + 2)-D batched input, k = 1, 2, 3")


def pad_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    x = tuple(shapes[0])
    pairs = pad_pairs(op, x, at["pad"])
    if at["mode"] != "constant":
        check_pad_rank(op, x, at)
    for d, (lo, hi) in enumerate(pairs):
        if at["mode"] != "constant" and (lo or hi):
            if min(lo, hi) < 0:
                raise ShapeError(op, f"negative pad {list(at['pad'])} in {at['mode']} mode")
            if at["mode"] == "reflect" and max(lo, hi) >= x[d]:
                raise ShapeError(op, f"padding size {max(lo, hi)} should be less than the corresponding input "
                                     f"dimension {x[d]} of input of shape {list(x)}")
            if at["mode"] == "replicate" and x[d] == 0:
                raise ShapeError(op, f"cannot replicate an empty dimension of input of shape {list(x)}")
        if x[d] + lo + hi < 0:
            raise ShapeError(op, f"pad {list(at['pad'])} makes dim {d} of input {list(x)} negative")
    return tuple(x[d] + lo + hi for d, (lo, hi) in enumerate(pairs))


def pad_index(x: Sequence[int], at: dict) -> np.ndarray:
    """Per output element the flat input index it copies, -1 where it is the constant."""
    grid = np.arange(int(np.prod(x, dtype=np.int64))).reshape(tuple(x))
    pairs = pad_pairs("pad", x, at["pad"])
    if at["mode"] == "constant":
        crop = tuple(slice(max(-lo, 0), x[d] - max(-hi, 0)) for d, (lo, hi) in enumerate(pairs))
        return np.pad(grid[crop], [(max(lo, 0), max(hi, 0)) for lo, hi in pairs], constant_values=-1)
    return np.pad(grid, pairs, mode="reflect" if at["mode"] == "reflect" else "edge")


def _pad_name(shapes: Sequence[Any], at: Any) -> str:
    if at["mode"] == "constant":
        return "ConstantPadNdBackward0"
    kind = "Reflection" if at["mode"] == "reflect" else "Replication"
    return f"{kind}Pad{len(at['pad']) // 2}DBackward0"


_LINEAR = {3: "linear", 4: "bilinear"}  # torch's interpolating mode per input rank


def interp_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    """(N, C, L) resamples L (modes nearest, linear), (N, C, H, W) resamples H and W (nearest,
    bilinear), as torch's interpolate."""
    x = tuple(shapes[0])
    if len(x) not in (3, 4):
        raise ShapeError(op, f"expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got input of shape {list(x)}")
    if at["mode"] != "nearest" and at["mode"] != _LINEAR[len(x)]:
        raise RankNotSupported(op, f"Got {len(x)}D input, but {at['mode']} mode needs {5 - len(x) + 2}D input")
    size = tuple(at["size"])
    if len(size) != len(x) - 2 or min(size) < 1 or min(x[2:]) < 1:
        raise ShapeError(op, f"output size {list(size)} must be {len(x) - 2} positive ints (input of shape "
                             f"{list(x)})")
    for name, given, out in zip(("scale_h", "scale_w")[4 - len(x):], (at["scale_h"], at["scale_w"])[4 - len(x):], size):
        if given > 0 and (out + 1) / given > 2.0**52:  # source indices dst / scale left int64 (IndexError)
            raise ShapeError(op, f"{name} {given!r} maps output positions to source indices beyond 2^52")
    return x[:2] + size


def as_2d(shape: Sequence[int], at: dict) -> tuple[tuple[int, ...], dict]:
    """A 1-D interpolation as the 2-D one of a height-1 image: (N, C, L) -> (N, C, 1, L), its
    linear mode bilinear (one row: the same weights), its scale the width's."""
    if len(shape) != 3:
        return tuple(shape), at
    mode = "nearest" if at["mode"] == "nearest" else "bilinear"
    return (*shape[:2], 1, shape[2]), {**at, "size": (1, *at["size"]), "mode": mode, "scale_h": 0.0, "one_dim": True}


def _interp_name(shapes: Sequence[Any], at: Any) -> str:
    dims = len(shapes[0]) - 2
    kind = "Nearest" if at["mode"] == "nearest" else "Linear" if dims == 1 else "Bilinear"
    return f"Upsample{kind}{dims}DBackward0"


def _scale(size_in: int, size_out: int, given: float, align_corners: bool) -> float:
    """torch's area_pixel_compute_scale."""
    if align_corners:
        return (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
    return 1.0 / given if given > 0 else size_in / size_out


def nearest_index(size_in: int, size_out: int, given: float, shortcuts: bool = True) -> np.ndarray:
    """src = min(floor(dst * scale), in - 1), torch's 'nearest'; with ``shortcuts`` (torch's 2-D
    kernel, its nearest_idx, not the 1-D one) a kept size copies and a doubled one halves the index
    whatever scale_factor was given."""
    if shortcuts and size_out in (size_in, 2 * size_in):
        return np.arange(size_out, dtype=np.int64) >> (size_out != size_in)
    scale = _scale(size_in, size_out, given, False)
    return np.minimum(np.floor(np.arange(size_out, dtype=np.float32) * np.float32(scale)).astype(np.int64), size_in - 1)


def linear_taps(size_in: int, size_out: int, given: float, align_corners: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, lambda) per output position: out = (1 - lambda) x[i0] + lambda x[i1], torch's bilinear
    (a kept size is a copy whatever scale_factor was given, as torch's linear kernels)."""
    if size_out == size_in:
        index = np.arange(size_out, dtype=np.int64)
        return index, np.minimum(index + 1, size_in - 1), np.zeros(size_out)
    scale = _scale(size_in, size_out, given, align_corners)
    dst = np.arange(size_out, dtype=np.float64)
    src = dst * scale if align_corners else np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
    i1 = np.minimum(i0 + 1, size_in - 1)
    return i0, i1, src - i0


def shuffle_shape(op: str, shapes: Sequence[Any], at: dict) -> tuple[int, ...]:
    x, r = tuple(shapes[0]), at["upscale_factor"]
    if len(x) < 3 or r < 1 or x[-3] % (r * r):
        raise ShapeError(op, f"pixel_shuffle expects its input's channel dim to be divisible by the square of "
                             f"upscale_factor {r}, got input of shape {list(x)}")
    return x[:-3] + (x[-3] // (r * r), x[-2] * r, x[-1] * r)


RESAMPLE_SPECS: tuple[OpSpec, ...] = (
    OpSpec(
        "pad", (Input("input"),), pad_shape, _pad_name,
        (Case(((1, 2, 3, 3),), {"pad": (1, 2, 0, 1), "value": 0.5}),
         Case(((1, 1, 3, 4),), {"pad": (2, 1, 1, 2), "mode": "reflect"}),
         Case(((1, 1, 3, 3),), {"pad": (1, 0, 2, 1), "mode": "replicate"}),
         Case(((2, 5),), {"pad": (-1, 2)}),
         Case(((2, 5),), {"pad": (2, 1), "mode": "reflect"}),  # unbatched (C, W)
         Case(((2, 3, 4),), {"pad": (1, 2, 2, 0), "mode": "replicate"})),  # unbatched (C, H, W)
        (Attr("pad", "shape", ()), Attr("mode", "choice", "constant", PAD_MODES), Attr("value", "float", 0.0)),
        doc="torch.nn.functional.pad: pad (last dim first), constant/reflect/replicate",
    ),
    OpSpec(
        "interpolate", (Input("input"),), interp_shape, _interp_name,
        (Case(((1, 2, 3, 2),), {"size": (5, 4)}),
         Case(((1, 1, 3, 4),), {"size": (5, 6), "mode": "bilinear"}),
         Case(((1, 1, 3, 3),), {"size": (4, 5), "mode": "bilinear", "align_corners": True}),
         Case(((1, 1, 2, 3),), {"size": (5, 7), "mode": "bilinear", "scale_h": 2.5, "scale_w": 2.5}),
         Case(((2, 2, 3),), {"size": (7,), "scale_w": 2.5}),
         Case(((1, 2, 4),), {"size": (7,), "mode": "linear"}),
         Case(((1, 1, 3),), {"size": (5,), "mode": "linear", "align_corners": True})),
        (Attr("size", "shape", (1, 1)), Attr("mode", "choice", "nearest", ("nearest", "bilinear", "linear")),
         Attr("align_corners", "bool", False), Attr("scale_h", "float", 0.0), Attr("scale_w", "float", 0.0)),
        doc="nearest / bilinear resampling of (N, C, H, W) to `size` (h, w), nearest / linear of (N, C, L) "
            "to `size` (l,) (scale_h/w: the scale_factor given, 0 if none; a 3-D input's is scale_w)",
    ),
    OpSpec(
        "pixel_shuffle", (Input("input"),), shuffle_shape, "PixelShuffleBackward0",
        (Case(((1, 8, 2, 3),), {"upscale_factor": 2}),),
        (Attr("upscale_factor", "int", 2),),
        doc="(N, C r^2, H, W) -> (N, C, H r, W r)",
    ),
)
