"""More of torch.nn.functional over existing catalogue ops: softmax/log_softmax with dtype= and
torch's implicit dim, relu6, normalize, one_hot, and sigmoid/tanh promoting integer inputs."""

from __future__ import annotations

import numpy as np

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
