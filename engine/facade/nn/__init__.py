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
from crossgrad.nn import functional

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Flatten", "Linear", "MSELoss", "Module", "Parameter",
    "ReLU", "Sequential", "functional",
]
