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

from crossgrad.engine.numeric.functional_cnn import (  # noqa: E402 (convolutional networks)
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    batch_norm,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    dropout2d,
    group_norm,
    instance_norm,
    interpolate,
    max_pool2d,
    pad,
    pixel_shuffle,
    upsample,
)

__all__ += [
    "adaptive_max_pool2d", "group_norm", "instance_norm", "interpolate", "pad", "pixel_shuffle", "upsample",
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "conv_transpose1d",
    "conv_transpose2d", "dropout2d", "max_pool2d",
]
