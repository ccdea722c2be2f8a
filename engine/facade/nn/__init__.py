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
