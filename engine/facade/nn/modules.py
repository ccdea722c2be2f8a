"""``crossgrad.nn.modules`` as ``torch.nn.modules``: its submodules (conv, batchnorm, pooling, ...)
holding the same classes as ``crossgrad.nn``, with the private bases user code tests against
(``isinstance(m, nn.modules.batchnorm._BatchNorm)``, ``from torch.nn.modules.conv import _ConvNd``).
The submodules are registered in ``sys.modules`` so that the ``from ... import`` forms work."""

from __future__ import annotations

import sys
import types

import crossgrad.nn as _nn
from crossgrad.nn import cnn as _cnn

_LAYOUT = {
    "module": ("Module",),
    "container": ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"),
    "linear": ("Linear", "Identity"),
    "conv": ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"),
    "batchnorm": ("BatchNorm1d", "BatchNorm2d"),
    "instancenorm": ("InstanceNorm1d", "InstanceNorm2d"),
    "normalization": ("GroupNorm", "LayerNorm"),
    "pooling": ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
                "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"),
    "dropout": ("Dropout", "Dropout1d", "Dropout2d"),
    "padding": ("ConstantPad1d", "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d", "ReflectionPad2d",
                "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"),
    "pixelshuffle": ("PixelShuffle", "PixelUnshuffle"),
    "upsampling": ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
    "flatten": ("Flatten", "Unflatten"),
    "sparse": ("Embedding",),
    "activation": ("ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "ELU", "LeakyReLU", "Hardtanh", "Softmax",
                   "LogSoftmax", "Softplus", "Hardsigmoid", "Hardswish", "Mish", "MultiheadAttention"),
    "loss": ("CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss", "BCELoss", "NLLLoss", "L1Loss", "SmoothL1Loss",
             "HuberLoss", "KLDivLoss"),
    "transformer": ("TransformerEncoder", "TransformerEncoderLayer"),
}
_PRIVATE = {"conv": {"_ConvNd": _cnn._ConvNd}, "batchnorm": {"_BatchNorm": _cnn._BatchNorm}}


def _submodule(name: str) -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.{name}", f"torch.nn.modules.{name}'s classes")
    for cls in _LAYOUT[name]:
        if hasattr(_nn, cls):
            setattr(module, cls, getattr(_nn, cls))
    for key, value in _PRIVATE.get(name, {}).items():
        setattr(module, key, value)
    sys.modules[module.__name__] = module
    return module


for _name in _LAYOUT:
    globals()[_name] = _submodule(_name)
    globals().update({cls: getattr(_nn, cls) for cls in _LAYOUT[_name] if hasattr(_nn, cls)})
