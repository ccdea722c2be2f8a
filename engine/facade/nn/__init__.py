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
