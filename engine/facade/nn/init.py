"""``crossgrad.nn.init`` as in ``torch.nn.init``: in-place initializers drawing torch's numbers from
the default generator (or ``generator=``), with torch's gain and fan rules and its float steps
(bounds and standard deviations computed in the same order, so the same float32 values)."""

import math
import warnings
from typing import Any

import numpy as np
from crossgrad.engine.numeric.autograd import no_grad
from crossgrad.engine.numeric.creation import _normal, _uniform

_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
          "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: Any = None) -> float:
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    return _GAINS[nonlinearity]


def _fans(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) as torch.nn.init._calculate_fan_in_and_fan_out."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    field = int(np.prod(tensor.shape[2:])) if tensor.dim() > 2 else 1
    return tensor.shape[1] * field, tensor.shape[0] * field


_calculate_fan_in_and_fan_out = _fans  # the private name user code calls


def _fill(tensor: Any, values: np.ndarray) -> Any:
    with no_grad():
        tensor._data[...] = values.astype(tensor._data.dtype)
    return tensor


def _dtype(tensor: Any) -> Any:
    return tensor._data.dtype if tensor._data.dtype.kind == "f" else np.float64


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    return _fill(tensor, _uniform(tuple(tensor.shape), a, b, _dtype(tensor), generator))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    return _fill(tensor, _normal(tuple(tensor.shape), mean, std, _dtype(tensor), generator))


def trunc_normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Any = None) -> Any:
    """torch 2.13's sampler: when [a, b] holds more than 0.3 of the mass, normal draws with the
    values outside redrawn (a whole fresh tensor per round, as torch does); else uniform
    proposals accepted by a log-density test (torch's float32 log: last-bit differences possible)."""
    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    shape, dtype = tuple(tensor.shape), _dtype(tensor)
    if cdf((b - mean) / std) - cdf((a - mean) / std) <= 0.3:
        return _fill(tensor, _trunc_by_uniform(shape, dtype, mean, std, a, b, generator))
    lo, hi = np.asarray(a, dtype), np.asarray(b, dtype)
    result = _normal(shape, mean, std, dtype, generator)
    while True:
        outside = (result < lo) | (result > hi)
        if not outside.any():
            return _fill(tensor, result)
        result = np.where(outside, _normal(shape, mean, std, dtype, generator), result)


def _trunc_by_uniform(shape: tuple, dtype: Any, mean: float, std: float, a: float, b: float,
                      generator: Any) -> np.ndarray:
    """Uniform proposals on [a, b], each accepted when log(u) <= -((x - mean) / std)**2 / 2 - log_peak."""
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    d = np.dtype(dtype).type

    def log_pdf(x: np.ndarray) -> np.ndarray:
        return (((x - d(mean)) / d(std)) ** 2 * d(-0.5) - d(log_peak)).astype(dtype)

    result = _uniform(shape, a, b, dtype, generator)
    pending = np.log(_uniform(shape, 0.0, 1.0, dtype, generator)) > log_pdf(result)
    while pending.any():
        candidates = _uniform(shape, a, b, dtype, generator)
        result = np.where(pending, candidates, result)
        pending = np.where(pending, np.log(_uniform(shape, 0.0, 1.0, dtype, generator)) > log_pdf(candidates), pending)
    return result


def constant_(tensor: Any, val: float) -> Any:
    return _fill(tensor, np.full(tuple(tensor.shape), val))


def ones_(tensor: Any) -> Any:
    return constant_(tensor, 1.0)


def zeros_(tensor: Any) -> Any:
    return constant_(tensor, 0.0)


def eye_(tensor: Any) -> Any:
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # torch's order of operations: the same float bound
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _empty(tensor: Any) -> bool:
    """torch's kaiming initializers leave a zero-element tensor alone, with a warning."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Any = None) -> Any:
    if _empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Any = None) -> Any:
    if _empty(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


__all__ = ["calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_",
           "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_"]
