"""A reused capture that no longer computes what the function computes.

The cache key (the function, input shapes and dtypes) and the freshness check (freshness.py)
cannot see everything a trace bakes in: a tensor attribute of an object rebound (``self.t =
...``), a branch taken on values (``if x.sum() > 0``). Every call compares the forward value the
numeric witness computed on the reused graph with PyTorch's own forward of that call; when they
clearly differ (by far more than rounding), the function is captured again and checked anew.
"""

from __future__ import annotations

import numpy as np
import torch

RELATIVE = {torch.float32: 1e-3, torch.float64: 1e-7}  # of the terms' size: far above rounding


def forward_differs(value: np.ndarray | None, outputs: list[torch.Tensor], direction: list[torch.Tensor],
                    summed: bool) -> bool:
    """Whether the graph's output ``value`` is not PyTorch's: the single output itself, or (``summed``)
    sum_k sum(output_k * direction_k). (NaN against anything counts as equal: no evidence.)"""
    if value is None:
        return False  # the numeric witness sat out: nothing to compare
    tol = max(RELATIVE.get(o.dtype, 1e-3) for o in outputs)
    if summed:
        terms = [o.detach().double() * d.detach().double() for o, d in zip(outputs, direction)]
        theirs, scale = sum(float(t.sum()) for t in terms), sum(float(t.abs().sum()) for t in terms)
        return bool(abs(float(value) - theirs) > tol * scale)
    out = outputs[0].detach()
    if out.numel() == 1 and np.ndim(value) == out.dim():
        theirs = out.item()
        return bool(abs(float(value) - theirs) > tol * abs(theirs))
    array = out.numpy()
    if np.shape(value) != array.shape:
        return True
    with np.errstate(all="ignore"):
        return bool(np.any(np.abs(np.asarray(value, np.float64) - array) > tol * np.abs(array)))
