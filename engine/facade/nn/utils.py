"""``crossgrad.nn.utils``: gradient clipping as in ``torch.nn.utils`` (in place on ``.grad``)."""

from typing import Any

import numpy as np
from crossgrad.engine.numeric.tensor import Tensor


def _grads(parameters: Any) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p._grad for p in params if p._grad is not None]


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale all gradients by min(1, max_norm / (total_norm + 1e-6)); returns total_norm (torch's rule)."""
    grads = _grads(parameters)
    if not grads:
        return Tensor._make(np.zeros((), np.float32))
    norm_type = float(norm_type)
    if norm_type == float("inf"):
        norms = [np.abs(g._data).max() for g in grads]
        total = np.max(norms)
    else:
        norms = [np.linalg.norm(g._data.ravel(), norm_type) for g in grads]
        total = np.linalg.norm(np.asarray(norms), norm_type)
    total = np.asarray(total, grads[0]._data.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped. To disable this error and scale the gradients by the "
                           "non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for g in grads:
        g._data *= g._data.dtype.type(coef)
    return Tensor._make(total)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)


def parameters_to_vector(parameters: Any) -> Tensor:
    return Tensor._make(np.concatenate([p._data.ravel() for p in parameters]))


__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector"]
