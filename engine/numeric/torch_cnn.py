"""torch's top-level convolutional-network functions (``torch.conv2d``, ``torch.max_pool2d``,
``torch.batch_norm``, ...): the aten signatures a user reaches without ``nn.functional``, each
forwarding to the functional form (same graph, same grad_fn names)."""

from __future__ import annotations

from typing import Any

from . import functional_cnn as F
from . import functional_cnn_more, functional_extra
from .tensor import Tensor

conv1d, conv2d = F.conv1d, F.conv2d
conv_transpose1d, conv_transpose2d = F.conv_transpose1d, F.conv_transpose2d
pixel_shuffle, pixel_unshuffle = F.pixel_shuffle, functional_cnn_more.pixel_unshuffle
adaptive_avg_pool1d = functional_extra.adaptive_avg_pool1d


def _stride(stride: Any) -> Any:
    """aten's pooling stride defaults to an empty list, meaning the kernel size."""
    return None if stride is None or (not isinstance(stride, int) and len(stride) == 0) else stride


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return functional_extra.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    return functional_extra.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """torch.adaptive_max_pool1d returns (values, indices), always."""
    return functional_extra.adaptive_max_pool1d(input, output_size, True)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
               running_var: Tensor | None, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool = True) -> Tensor:
    """aten's order: the affine parameters before the running statistics."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
    return F.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                  running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool = True) -> Tensor:
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    return F.pad(input, list(pad), "constant", float(value))


FUNCTIONS = ("adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "batch_norm", "constant_pad_nd", "conv1d",
             "conv2d", "conv_transpose1d", "conv_transpose2d", "group_norm", "instance_norm", "max_pool1d",
             "max_pool2d", "pixel_shuffle", "pixel_unshuffle")


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> Any:
    return functional_extra.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> Any:
    return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    return functional_extra.adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    return F.adaptive_max_pool2d(input, output_size, True)


# torch.nn.functional's (values, indices) forms
FUNCTIONAL = ("adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "max_pool1d_with_indices",
              "max_pool2d_with_indices")
