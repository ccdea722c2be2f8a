"""``crossgrad.nn.functional`` for convolutional networks, with torch's signatures and defaults.

Shapes are checked against the catalogue's shape rule before anything is computed, so a bad
call fails with a ShapeError naming the op and the shapes (as torch's RuntimeError would).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from ..errors import BatchSizeError, DtypeError, ShapeError
from . import bn_kernels, pad_modes
from .autograd import no_grad
from .dispatch import apply
from .tensor import Tensor
from .tensor_math import _renamed

IntOrTuple = int | Sequence[int]


def _tup(value: IntOrTuple, nd: int) -> tuple[int, ...]:
    return (int(value),) * nd if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)


def _conv_tup(value: Any, nd: int) -> tuple[int, ...]:
    """A convolution's or pooling's stride/padding/dilation/kernel: an int or a sequence, one entry
    standing for every spatial dim (torch's expand_param_if_needed; its pooling accepts 1 or 2)."""
    out = _tup(value, nd)
    return out * nd if len(out) == 1 else out


def same_floats(op: str, input: Any, *others: Any) -> None:
    """torch never mixes float dtypes in a layer (float32 input, float64 weight: RuntimeError)."""
    for other in others:
        if isinstance(other, Tensor) and isinstance(input, Tensor) and other._data.dtype != input._data.dtype \
                and other._data.dtype.kind == "f" and input._data.dtype.kind == "f":
            raise DtypeError(op, f"expected scalar type {input.dtype.name} but found {other.dtype.name}: input and "
                                 f"parameters must share one dtype (torch: mixed dtype (CPU))")


def _run(op: str, inputs: tuple, attrs: dict) -> Tensor:
    same_floats(op, *inputs)
    shapes = [None if t is None else tuple(t.shape) for t in inputs]
    ops.CATALOGUE[op].out_shape(shapes, ops.resolve_attrs(ops.CATALOGUE[op], attrs))
    return apply(op, inputs, ops.resolve_attrs(ops.CATALOGUE[op], attrs))


def _padding(padding: IntOrTuple | str, kernel: Sequence[int], dilation: tuple, stride: tuple) -> tuple[int, ...]:
    """torch's padding: ints, 'valid' (none) or 'same' (total d (k - 1), the odd one on the high side)."""
    nd = len(kernel)
    if padding == "valid":
        return (0,) * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [dilation[d] * (kernel[d] - 1) for d in range(nd)]
        if all(t % 2 == 0 for t in totals):
            return tuple(t // 2 for t in totals)
        return tuple(v for t in totals for v in (t // 2, t - t // 2))
    if isinstance(padding, str):
        raise RuntimeError(f"Invalid padding string: {padding!r} (should be one of 'valid', 'same')")
    return _conv_tup(padding, nd)


def _conv(op: str, nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: IntOrTuple,
          padding: IntOrTuple | str, dilation: IntOrTuple, groups: int) -> Tensor:
    s, d = _conv_tup(stride, nd), _conv_tup(dilation, nd)
    pad = _padding(padding, tuple(weight.shape[2:]) if weight.dim() == nd + 2 else (1,) * nd, d, s)
    return _run(op, (input, weight, bias), {"stride": s, "padding": pad, "dilation": d, "groups": int(groups)})


def _unbatched(op: str, nd: int, input: Tensor, run: Any) -> Tensor:
    """torch's convolutions take an unbatched (C, *spatial) input as one sample: unsqueezed, run,
    squeezed (so the result's grad_fn is SqueezeBackward1, as torch's)."""
    if input.dim() == nd + 1:
        return run(input.unsqueeze(0)).squeeze(0)
    if input.dim() != nd + 2:
        raise ShapeError(op, f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
                             f"of size: {list(input.shape)}")
    return run(input)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    return _unbatched("conv1d", 1, input, lambda x: _conv("conv1d", 1, x, weight, bias, stride, padding, dilation,
                                                           groups))


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    return _unbatched("conv2d", 2, input, lambda x: _conv("conv2d", 2, x, weight, bias, stride, padding, dilation,
                                                           groups))


def _conv_t(op: str, nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: IntOrTuple,
            padding: IntOrTuple, output_padding: IntOrTuple, groups: int, dilation: IntOrTuple) -> Tensor:
    if isinstance(padding, str):  # only the forward convolutions take 'same' / 'valid'
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    attrs = {"stride": _conv_tup(stride, nd), "padding": _conv_tup(padding, nd),
             "output_padding": _conv_tup(output_padding, nd), "dilation": _conv_tup(dilation, nd),
             "groups": int(groups)}
    return _run(op, (input, weight, bias), attrs)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    return _unbatched("conv_transpose1d", 1, input, lambda x: _conv_t(
        "conv_transpose1d", 1, x, weight, bias, stride, padding, output_padding, groups, dilation))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    return _unbatched("conv_transpose2d", 2, input, lambda x: _conv_t(
        "conv_transpose2d", 2, x, weight, bias, stride, padding, output_padding, groups, dilation))


def max_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
               dilation: IntOrTuple = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The pooled values; with return_indices, (values, indices) as torch."""
    attrs = {"kernel_size": _conv_tup(kernel_size, 2), "stride": () if stride is None else _conv_tup(stride, 2),
             "padding": _conv_tup(padding, 2), "dilation": _conv_tup(dilation, 2), "ceil_mode": bool(ceil_mode)}
    values = _run("max_pool2d", (input,), attrs)
    if not return_indices:
        return values
    return values, Tensor._make(_pool_indices(input, attrs, "max_pool2d"))


def _pool_indices(input: Tensor, attrs: dict, op: str) -> np.ndarray:
    """torch's indices: each window's first maximum as a flat index into its (H, W) input plane
    (int64 data, not part of the graph, as max(dim)'s indices)."""
    from .rules_pool import POOL_RULES

    data = np.asarray(input._data)
    resolved = ops.resolve_attrs(ops.CATALOGUE[op], attrs)
    flat = POOL_RULES[op].forward((data,), resolved)[1][0]
    out = ops.CATALOGUE[op].out_shape([data.shape], resolved)
    return np.asarray(flat % (data.shape[-2] * data.shape[-1]), np.int64).reshape(out)


def avg_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    attrs = {"kernel_size": _conv_tup(kernel_size, 2), "stride": () if stride is None else _conv_tup(stride, 2),
             "padding": _conv_tup(padding, 2), "ceil_mode": bool(ceil_mode),
             "count_include_pad": bool(count_include_pad), "divisor_override": divisor_override}
    return _run("avg_pool2d", (input,), attrs)


def adaptive_avg_pool2d(input: Tensor, output_size: IntOrTuple | Sequence[int | None]) -> Tensor:
    size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    full = tuple(input.shape[-2 + d] if v is None else int(v) for d, v in enumerate(size))
    return _run("adaptive_avg_pool2d", (input,), {"output_size": full})


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Training normalizes with the batch's statistics and updates the running ones in place
    (mean, and the unbiased variance, by ``momentum``): state outside the gradient."""
    attrs = {"training": bool(training), "momentum": float(momentum), "eps": float(eps)}
    same_floats("batch_norm", input, running_mean, running_var, weight, bias)
    if not training:
        return _run("batch_norm", (input, running_mean, running_var, weight, bias), attrs)
    out = _run("batch_norm", (input, None, None, weight, bias), attrs)
    if running_mean is not None or running_var is not None:
        update_running_stats(input, running_mean, running_var, momentum)
    return out


def update_running_stats(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                         factor: float) -> None:
    """running = (1 - factor) running + factor batch statistic (the variance unbiased), in place."""
    x = input._data
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.size // x.shape[1]
    stats = bn_kernels.take_stats(x)  # the op's own batch mean and variance, when it just ran on x
    mean, var = stats if stats is not None else (x.mean(axis=axes), x.var(axis=axes))
    with no_grad():  # in float64, rounded once (torch's kernel updates in its accumulation type)
        if running_mean is not None:
            running_mean._data[...] = (1 - factor) * running_mean._data.astype(np.float64) + factor * mean
        if running_var is not None:
            unbiased = np.asarray(var, np.float64) * count / max(count - 1, 1)
            running_var._data[...] = (1 - factor) * running_var._data.astype(np.float64) + factor * unbiased


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels with probability p, scaling the rest by 1 / (1 - p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    from . import torch_dists
    from .creation import _engine

    shape = (*input.shape[:2], *([1] * (input.dim() - 2)))  # torch's feature noise: one draw per channel
    mask = Tensor._make(torch_dists.dropout_mask(_engine(None), shape, p, input._data.dtype.type))
    return input.mul_(mask) if inplace else input * mask


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant" and value:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    return pad_modes.pad(input, pad, mode, 0.0 if value is None else float(value))


def interpolate(input: Tensor, size: IntOrTuple | None = None, scale_factor: float | Sequence[float] | None = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Nearest / bilinear resampling of (N, C, H, W), nearest / linear of (N, C, L), to ``size``
    or by ``scale_factor`` (torch's index rules)."""
    if mode not in ("nearest", "linear", "bilinear", "nearest-exact", "bicubic", "area"):
        raise NotImplementedError(f"interpolate mode {mode!r} is not supported (nearest, nearest-exact, "
                                  "linear, bilinear, bicubic, area)")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    nd = 1 if input.dim() == 3 else 2  # other ranks: the shape rule's error
    scales = (0.0, 0.0)
    if size is None:
        factors = (float(scale_factor),) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)  # type: ignore[arg-type]
        size = tuple(int(np.floor(input.shape[2 + d] * factors[d])) for d in range(min(nd, input.dim() - 2)))
        if not recompute_scale_factor:
            scales = (float(factors[0]), float(factors[-1])) if nd == 2 else (0.0, float(factors[0]))
    if any(int(v) <= 0 for v in _tup(size, nd)) and input.dim() == nd + 2:
        raise ShapeError("interpolate", f"Input and output sizes should be greater than 0, but got input "
                                        f"{list(input.shape[2:])} output {list(_tup(size, nd))}")
    if antialias and (mode not in ("bilinear", "bicubic") or input.dim() != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                         "requires a 4-D tensor as input")
    if antialias:
        from .interp_modes import antialiased
        return antialiased(input, _tup(size, nd), scales, mode, bool(align_corners))
    if mode in ("nearest-exact", "bicubic", "area"):
        from .interp_modes import resample
        return resample(input, _tup(size, nd), scales if nd == 2 else scales[1:], mode, bool(align_corners))
    attrs = {"size": _tup(size, nd), "mode": mode, "align_corners": bool(align_corners),
             "scale_h": scales[0], "scale_w": scales[1]}
    return _run("interpolate", (input,), attrs)


def upsample(input: Tensor, size: IntOrTuple | None = None, scale_factor: float | None = None,
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    return _run("pixel_shuffle", (input,), {"upscale_factor": int(upscale_factor)})


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    view = (1, -1) + (1,) * (out.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over each (sample, group of C/G channels, spatial) with biased variance, then the
    per-channel affine: composed of batch_norm on the (1, N G, -1) view, so every interpretation
    follows from batch_norm's; the output shows torch eager's grad_fn, NativeGroupNormBackward0."""
    same_floats("group_norm", input, weight, bias)
    n, c = input.shape[0], input.shape[1]
    if num_groups < 1 or c % num_groups:
        raise ShapeError("group_norm", f"Expected number of channels in input to be divisible by num_groups, "
                                       f"but got input of shape {list(input.shape)} and num_groups={num_groups}")
    flat = input.reshape(1, n * num_groups, -1)
    if flat.shape[-1] == 1:  # one element per group: x - mean is 0 (torch allows it; batch_norm would not)
        out = flat * 0.0
    else:
        out = _run("batch_norm", (flat, None, None, None, None), {"training": True, "eps": float(eps)})
    return _renamed(_affine(out.reshape(tuple(input.shape)), weight, bias), "NativeGroupNormBackward0")


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Each (sample, channel) normalized over its spatial elements: batch_norm on the (1, N C, ...) view."""
    same_floats("instance_norm", input, running_mean, running_var, weight, bias)
    if not use_input_stats:
        out = batch_norm(input, running_mean, running_var, None, None, False, momentum, eps)
        return _renamed(_affine(out, weight, bias), "ViewBackward0")
    n, c = input.shape[0], input.shape[1]
    if int(np.prod(input.shape[2:])) <= 1:  # torch's check, before the reshaped batch_norm's
        raise BatchSizeError("instance_norm", "Expected more than 1 spatial element when training, got input size "
                                          f"{list(input.shape)}")
    flat = input.reshape(1, n * c, -1)
    out = _run("batch_norm", (flat, None, None, None, None), {"training": True, "eps": float(eps)})
    if running_mean is not None or running_var is not None:
        stats = [None if r is None else Tensor(np.tile(r._data, n)) for r in (running_mean, running_var)]
        update_running_stats(flat.reshape(1, n * c, *input.shape[2:]), stats[0], stats[1], momentum)
        with no_grad():
            for r, s in zip((running_mean, running_var), stats):
                if r is not None and s is not None:
                    r._data[...] = s._data.reshape(n, c).mean(axis=0)
    return _renamed(_affine(out.reshape(tuple(input.shape)), weight, bias), "ViewBackward0")  # torch's name


def adaptive_max_pool2d(input: Tensor, output_size: IntOrTuple | Sequence[int | None],
                        return_indices: bool = False) -> Any:
    """The pooled values; with return_indices, (values, indices) as torch."""
    size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    full = tuple(input.shape[-2 + d] if v is None else int(v) for d, v in enumerate(size))
    values = _run("adaptive_max_pool2d", (input,), {"output_size": full})
    if not return_indices:
        return values
    return values, Tensor._make(_pool_indices(input, {"output_size": full}, "adaptive_max_pool2d"))
