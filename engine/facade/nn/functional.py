"""``crossgrad.nn.functional`` as in ``torch.nn.functional``."""

from crossgrad.engine.numeric.functional import (
    abs,
    binary_cross_entropy_with_logits,
    cross_entropy,
    exp,
    linear,
    log,
    log_softmax,
    matmul,
    maximum,
    minimum,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    tanh,
)
from crossgrad.engine.numeric.functional_elementwise import (  # issue 11, part A
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    silu,
)

__all__ = [
    "elu", "gelu", "hardtanh", "leaky_relu", "silu",
    "abs", "binary_cross_entropy_with_logits", "cross_entropy", "exp", "linear", "log",
    "log_softmax", "matmul", "maximum", "minimum", "mse_loss", "relu", "sigmoid", "softmax",
    "softplus", "sqrt", "tanh",
]
__all__ += ["elu", "gelu", "hardtanh", "leaky_relu", "silu"]
