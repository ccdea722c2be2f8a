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

__all__ = [
    "abs", "binary_cross_entropy_with_logits", "cross_entropy", "exp", "linear", "log",
    "log_softmax", "matmul", "maximum", "minimum", "mse_loss", "relu", "sigmoid", "softmax",
    "softplus", "sqrt", "tanh",
]
