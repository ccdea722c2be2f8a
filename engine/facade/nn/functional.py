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

from crossgrad.engine.numeric.nn_api import (  # noqa: E402 (issue 11 part B)
    binary_cross_entropy,
    cosine_similarity,
    dropout,
    embedding,
    huber_loss,
    kl_div,
    l1_loss,
    layer_norm,
    nll_loss,
    scaled_dot_product_attention,
    smooth_l1_loss,
)

__all__ += ["binary_cross_entropy", "cosine_similarity", "dropout", "embedding", "huber_loss", "kl_div",
            "l1_loss", "layer_norm", "nll_loss", "scaled_dot_product_attention", "smooth_l1_loss"]

from crossgrad.engine.numeric import functional_extra as _extra  # noqa: E402
from crossgrad.engine.numeric.functional_extra import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    avg_pool1d,
    max_pool1d,
    normalize,
    one_hot,
    relu6,
)

# bound by name: softmax/log_softmax with dtype= and torch's implicit dim, sigmoid/tanh of int inputs
globals().update({_name: getattr(_extra, _name) for _name in _extra.__all__})
__all__ += ["adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "max_pool1d", "normalize", "one_hot", "relu6"]

from crossgrad.engine.numeric.functional_cnn_more import dropout1d, pixel_unshuffle  # noqa: E402

__all__ += ["dropout1d", "pixel_unshuffle"]

from crossgrad.engine.numeric.interp_modes import upsample_bilinear, upsample_nearest  # noqa: E402

__all__ += ["upsample_bilinear", "upsample_nearest"]

from crossgrad.engine.numeric.functional_everyday import hardsigmoid, hardswish, mish  # noqa: E402 (opsb sweep)

__all__ += ["hardsigmoid", "hardswish", "mish"]

from crossgrad.engine.numeric import inplace_forms as _inplace  # noqa: E402 (inplace=True, F.relu_)

for _name in ("relu", "relu6", "leaky_relu", "elu", "hardtanh", "silu", "hardswish", "hardsigmoid", "mish",
              "dropout", "dropout1d", "dropout2d"):
    globals()[_name] = _inplace.honour_inplace(globals()[_name])
relu_, leaky_relu_, elu_, hardtanh_ = (_inplace.underscore(globals()[_n]) for _n in ("relu", "leaky_relu", "elu",
                                                                                       "hardtanh"))
__all__ += ["elu_", "hardtanh_", "leaky_relu_", "relu_"]

from crossgrad.engine.numeric import torch_cnn as _torch_cnn  # noqa: E402 (max_pool2d_with_indices, ...)

globals().update({_name: getattr(_torch_cnn, _name) for _name in _torch_cnn.FUNCTIONAL})
__all__ += list(_torch_cnn.FUNCTIONAL)
