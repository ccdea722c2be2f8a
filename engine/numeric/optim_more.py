"""``crossgrad.optim.RMSprop`` and ``Adagrad`` with torch 2.13's single-tensor update rules
(state: step, square_avg / momentum_buffer / grad_avg; step, sum)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optim import Optimizer, buffer, step_count, torch_flags
from .tensor import Tensor


def _grad(p: Tensor, group: dict[str, Any]) -> np.ndarray:
    g = p._grad._data  # type: ignore[union-attr]
    g = -g if group["maximize"] else g
    return g + group["weight_decay"] * p._data if group["weight_decay"] else g


class _Stepwise(Optimizer):
    def step(self, closure: Any = None) -> Any:
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    self._update(p, group, self.state.setdefault(p, {}))
        return loss

    def _update(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError


class RMSprop(_Stepwise):
    """v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v - centered mean^2) + eps), with momentum."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        for name, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize,
                    **torch_flags(foreach, differentiable, None, capturable=capturable)}
        defaults.pop("fused")
        super().__init__(params, defaults)

    def _update(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        g, alpha = _grad(p, group), group["alpha"]
        if not state:
            state.update(step=step_count(), square_avg=buffer(p._data))
            if group["momentum"] > 0:
                state["momentum_buffer"] = buffer(p._data)
            if group["centered"]:
                state["grad_avg"] = buffer(p._data)
        state["step"]._data += 1
        v = state["square_avg"]._data
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            m = state["grad_avg"]._data
            m += (g - m) * (1 - alpha)
            avg = np.sqrt(v - m * m)
        else:
            avg = np.sqrt(v)
        avg = avg + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]._data
            buf *= group["momentum"]
            buf += g / avg
            p._data -= group["lr"] * buf
        else:
            p._data -= group["lr"] * (g / avg)


class Adagrad(_Stepwise):
    """s += g^2; p -= lr / (1 + (step - 1) lr_decay) * g / (sqrt(s) + eps)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay), ("epsilon value", eps),
                            ("initial_accumulator_value", initial_accumulator_value)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize,
                    **torch_flags(foreach, differentiable, fused)}
        super().__init__(params, defaults)

    def _update(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        if not state:
            state.update(step=step_count(), sum=buffer(p._data, group["initial_accumulator_value"]))
        state["step"]._data += 1
        g = _grad(p, group)
        clr = group["lr"] / (1 + (float(state["step"]._data) - 1) * group["lr_decay"])
        total = state["sum"]._data
        total += g * g
        p._data -= clr * (g / (np.sqrt(total) + group["eps"]))


__all__ = ["Adagrad", "RMSprop"]
