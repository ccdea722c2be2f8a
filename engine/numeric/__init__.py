"""The numeric witness: a numpy reverse-mode engine with PyTorch's autograd semantics.

Never imports sympy (a test enforces it).
"""

from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    Generator,
    arange,
    default_generator,
    from_numpy,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import bool_, double, dtype, float32, float64, int64, long
from .tensor import Size, Tensor
from .tensor_surface import accelerator, allclose, cuda, device, isclose  # installs Tensor.to, clone, ...

__all__ = [
    "Generator", "Size", "Tensor", "arange", "bool_", "default_generator", "double", "dtype",
    "enable_grad", "float32", "float64", "from_numpy", "full", "int64", "is_grad_enabled", "long",
    "manual_seed", "no_grad", "ones", "ones_like", "rand", "randn", "set_grad_enabled", "tensor",
    "zeros", "zeros_like",
]
__all__ += ["accelerator", "allclose", "cuda", "device", "isclose"]
