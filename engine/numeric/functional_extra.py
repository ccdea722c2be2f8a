"""More of torch.nn.functional over existing catalogue ops: softmax/log_softmax with dtype= and
torch's implicit dim, relu6, normalize, one_hot, and sigmoid/tanh promoting integer inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional_cnn as C
from . import functional_elementwise as E
from .functional_reductions import norm
from .tensor import Tensor
from .tensor_compat import log_softmax, softmax
from .torch_functions import sigmoid, tanh


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): torch computes it as hardtanh(x, 0, 6) (HardtanhBackward0)."""
    return E.hardtanh(input, 0.0, 6.0)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p along dim, eps), as torch's F.normalize."""
    denom = E.clamp(norm(input, p, dim, keepdim=True), min=eps)
    return input / denom.expand_as(input)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows (no gradient), torch's errors for bad classes."""
    data = tensor._data
    if data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if data.size and data.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    n = int(data.max()) + 1 if num_classes == -1 and data.size else int(num_classes)
    if data.size and data.max() >= n:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((data[..., None] == np.arange(n)).astype(np.int64))


__all__ = ["log_softmax", "normalize", "one_hot", "relu6", "sigmoid", "softmax", "tanh"]


def _one(v: Any) -> int:
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


def _as_2d(pool: Any, input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """A 1-d pool as torch computes it: unsqueeze(-2), the 2-d pool over (1, k) windows, squeeze(-2)."""
    out = pool(input.unsqueeze(-2), *args, **kwargs)
    if isinstance(out, tuple):
        return tuple(o.squeeze(-2) for o in out)
    return out.squeeze(-2)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    stride = kernel_size if stride is None or stride == [] else stride
    return _as_2d(C.max_pool2d, input, (1, _one(kernel_size)), (1, _one(stride)), (0, _one(padding)),
                  (1, _one(dilation)), ceil_mode, return_indices)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    stride = kernel_size if stride is None or stride == [] else stride
    return _as_2d(C.avg_pool2d, input, (1, _one(kernel_size)), (1, _one(stride)), (0, _one(padding)), ceil_mode,
                  count_include_pad)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    return _as_2d(C.adaptive_avg_pool2d, input, (1, _one(output_size)))


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    return _as_2d(C.adaptive_max_pool2d, input, (1, _one(output_size)), return_indices)


__all__ += ["adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "max_pool1d"]
