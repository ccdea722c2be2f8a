"""``crossgrad.nn`` as in ``torch.nn``."""

from crossgrad.engine.numeric.nn import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Flatten,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
)
from crossgrad.engine.numeric.nn_activations import ELU, GELU, Hardtanh, Identity, LeakyReLU, Sigmoid, SiLU, Tanh
from crossgrad.nn import functional

__all__ = [
    "ELU", "GELU", "Hardtanh", "Identity", "LeakyReLU", "SiLU", "Sigmoid", "Tanh",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Flatten", "Linear", "MSELoss", "Module", "Parameter",
    "ReLU", "Sequential", "functional",
]

# Containers and transformer layers (issue 11); their forwards call crossgrad.nn.functional.
from crossgrad.engine.numeric.nn_layers import Dropout, Embedding, LayerNorm, ModuleDict, ModuleList  # noqa: E402

__all__ += ["Dropout", "Embedding", "LayerNorm", "ModuleDict", "ModuleList"]

from crossgrad.nn.cnn import (  # noqa: E402 (convolutional-network modules)
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dropout2d,
    GroupNorm,
    MaxPool2d,
    PixelShuffle,
    Upsample,
)

__all__ += [
    "GroupNorm", "PixelShuffle", "Upsample",
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d",
    "Dropout2d", "MaxPool2d",
]

from crossgrad.engine.numeric import nn_repr as _nn_repr  # noqa: E402 (torch's module reprs)
from crossgrad.engine.numeric.nn_extra import (  # noqa: E402 (the rest of the everyday modules)
    AdaptiveAvgPool1d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    BCELoss,
    CosineSimilarity,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    LogSoftmax,
    MaxPool1d,
    NLLLoss,
    ReLU6,
    SmoothL1Loss,
    Softmax,
    Softplus,
    Unflatten,
)
from crossgrad.nn import init, utils  # noqa: E402
from crossgrad.nn.instancenorm import InstanceNorm1d, InstanceNorm2d  # noqa: E402

_nn_repr._install()

from crossgrad.engine.numeric.device_kw import accept_device_in_init as _accept_device  # noqa: E402

for _cls in (Linear, Conv1d, Conv2d, ConvTranspose2d, Embedding, LayerNorm, BatchNorm1d, BatchNorm2d, GroupNorm,
             InstanceNorm1d, InstanceNorm2d):
    _accept_device(_cls)  # torch's device= ("cpu" only)
__all__ += [
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d", "BCELoss",
    "CosineSimilarity", "HuberLoss", "KLDivLoss", "L1Loss", "LogSoftmax", "NLLLoss", "ReLU6", "SmoothL1Loss",
    "Softmax", "Softplus", "Unflatten", "init", "utils", "InstanceNorm1d", "InstanceNorm2d",
]

from crossgrad.nn import more_cnn as _more_cnn  # noqa: E402 (padding, resampling and 1-D siblings)
from crossgrad.nn.more_cnn import *  # noqa: E402,F403

__all__ += _more_cnn.__all__

from crossgrad.engine.numeric import nn_containers_more as _containers  # noqa: E402 (ParameterList, ...)
from crossgrad.engine.numeric.nn_containers_more import ParameterDict, ParameterList  # noqa: E402

_containers.install()
__all__ += ["ParameterDict", "ParameterList"]

from crossgrad.nn.attention import (  # noqa: E402 (transformer modules)
    MultiheadAttention,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += ["MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer"]
from crossgrad.engine.numeric.functional_everyday import Hardsigmoid, Hardswish, Mish  # noqa: E402

__all__ += ["Hardsigmoid", "Hardswish", "Mish"]
from crossgrad.nn import modules  # noqa: E402 (torch.nn.modules.conv._ConvNd, ...: after every class above)

__all__ += ["modules"]
