"""A capture that used PyTorch's decompositions must compute PyTorch's forward.

An ATen op the mapping table lacks is replaced by PyTorch's own decomposition (bridge.py). Those
are not always the kernel's computation: torch 2.13's ``multilabel_margin_loss_forward``
decomposition keeps the slots after a target's first -1, where the kernel stops. A graph built
from such a decomposition is not the user's function, and every witness would judge PyTorch's
correct gradient against it. So on a fresh capture that used decompositions, the numeric
witness's forward value is compared with PyTorch's forward; when they clearly differ (far beyond
rounding, relative to the output's size) the function is refused, naming the decomposed ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .build import UnsupportedOpError

RELATIVE = {torch.float32: 1e-3, torch.float64: 1e-7}  # of the output's largest value: far above rounding


class DecompositionMismatchError(UnsupportedOpError):
    """The graph built with PyTorch's decompositions does not compute PyTorch's forward."""

    def __init__(self, ops: tuple[str, ...], detail: str) -> None:
        super().__init__(ops[0], "")
        self.args = (f"crossgrad cannot check this function: the graph built with PyTorch's decompositions of "
                     f"{', '.join(ops)} (ops the catalogue lacks) does not compute what PyTorch's kernels compute "
                     f"({detail}); every witness would judge the wrong function",)
        self.ops = ops


def _value(outputs: list[torch.Tensor], direction: list[torch.Tensor], summed: bool) -> np.ndarray:
    """PyTorch's counterpart of the graph's output: the output, or sum_k sum(output_k * direction_k)."""
    if not summed:
        return outputs[0].detach().double().numpy()
    return np.asarray(sum(float((o.detach().double() * d.detach().double()).sum())
                          for o, d in zip(outputs, direction)))


def check_decompositions(decomposed: tuple[str, ...], value: Any, outputs: list[torch.Tensor],
                         direction: list[torch.Tensor], summed: bool) -> None:
    """Raises DecompositionMismatchError when ``value`` (the graph's forward) is clearly not PyTorch's."""
    if not decomposed or value is None or not outputs:
        return
    theirs = _value(outputs, direction, summed)
    ours = np.asarray(value, np.float64)
    if ours.shape != theirs.shape:
        raise DecompositionMismatchError(decomposed, f"output shape {ours.shape} against {theirs.shape}")
    finite = np.isfinite(ours) & np.isfinite(theirs)
    if not finite.any():
        return
    tol = max(RELATIVE.get(o.dtype, 1e-3) for o in outputs)
    scale = max(float(np.abs(theirs[finite]).max()), float(np.abs(ours[finite]).max()), np.finfo(np.float64).tiny)
    gap = float(np.abs(ours[finite] - theirs[finite]).max())
    if gap > tol * scale:
        raise DecompositionMismatchError(decomposed, f"forward values differ by up to {gap:.6g}")
