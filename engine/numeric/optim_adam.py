"""``crossgrad.optim.Adam`` and ``AdamW`` with PyTorch's update rules (torch/optim/adam.py, single-tensor).

Per step t, with g the gradient (plus wd * p for Adam's L2 form):
m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2; vmax = max(vmax, v) under amsgrad;
p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
AdamW instead decays the parameter first: p *= 1 - lr * wd.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optim import Optimizer, buffer, step_count, torch_flags
from .tensor import Tensor


def _check(lr: float, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    """PyTorch's argument checks, with its messages."""
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Adam (Kingma & Ba) with L2 weight decay added to the gradient, as torch.optim.Adam."""

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay or self.decoupled,
                    **torch_flags(foreach, differentiable, fused, capturable=capturable)}
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    self._update(p, group)
        return loss

    def _state(self, p: Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {"step": step_count(), "exp_avg": buffer(p._data),
                                     "exp_avg_sq": buffer(p._data)}
            if amsgrad:
                state["max_exp_avg_sq"] = buffer(p._data)
        return state

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        grad = p._grad._data  # type: ignore[union-attr]
        grad = -grad if group["maximize"] else grad
        lr, wd, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        if wd and group.get("decoupled_weight_decay", self.decoupled):
            p._data *= p._data.dtype.type(1 - lr * wd)
        elif wd:
            grad = grad + wd * p._data
        state = self._state(p, group["amsgrad"])
        state["step"]._data += 1
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m += (grad - m) * (1 - beta1)  # m.lerp_(grad, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._data
            np.maximum(vmax, v, out=vmax)
            v = vmax
        t = float(state["step"]._data)
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / ((1 - beta2 ** t) ** 0.5) + group["eps"]
        p._data -= (step_size * (m / denom)).astype(p._data.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW: default wd 1e-2."""

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused)
