"""cross_entropy / nll_loss of (N, C, d1, ...) inputs with (N, d1, ...) targets, as torch takes them:
the class dim moved last and both flattened, so the (weighted) mean runs over every position;
a 'none' reduction reshaped back to the target's shape. grad_fn names as torch 2.13's."""

from __future__ import annotations

from typing import Any

from ..errors import BatchSizeError
from .tensor_math import _renamed


def flattened(loss: Any, input: Any, target: Any, reduction: str, **kwargs: Any) -> Any:
    want = [input.shape[0], *input.shape[2:]]
    if target.dim() and target.shape[0] != input.shape[0]:
        raise BatchSizeError(loss.__name__, f"Expected input batch_size ({input.shape[0]}) to match target "
                                            f"batch_size ({target.shape[0]}).")
    if list(target.shape) != want:
        raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")
    order = (0, *range(2, input.dim()), 1)
    flat = loss(input.permute(*order).reshape(-1, input.shape[1]), target.reshape(-1), reduction=reduction, **kwargs)
    if reduction == "none" and kwargs.get("label_smoothing"):
        return _renamed(flat.reshape(*target.shape), "AddBackward0")  # the smoothing term added last, as torch
    if reduction == "none":
        return _renamed(flat.reshape(*target.shape), "NllLoss2DBackward0" if input.dim() == 4 else "ViewBackward0")
    if flat.grad_fn is not None and type(flat.grad_fn).__name__ == "NllLossBackward0":
        return _renamed(flat, "NllLoss2DBackward0")
    return flat
