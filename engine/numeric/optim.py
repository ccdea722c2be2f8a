"""``crossgrad.optim.SGD``: PyTorch's SGD (momentum, dampening, weight decay, Nesterov)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor, clear_grad


class Optimizer:
    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = [{**defaults, **g, "params": list(g["params"])} for g in groups]
        for group in self.param_groups:  # a tensor lr (torch accepts one) as its number
            if isinstance(group.get("lr"), Tensor):
                group["lr"] = float(group["lr"].item())
        self.state: dict[Tensor, dict[str, Any]] = {}

    def __repr__(self) -> str:
        """torch's layout: the class name, then each group's settings (sorted, params left out)."""
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return text + ")"

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """torch's layout: {"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]};
        buffers become tensors (copies), so ``crossgrad.save`` can write it."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: Tensor._make(np.array(v)) if isinstance(v, np.ndarray) else v
                                for k, v in s.items()} for p, s in self.state.items()}
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
                  for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        params = self._params()
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError("loaded state dict has a different number of parameter groups or parameters")
        for own, g in zip(self.param_groups, groups):
            own.update({k: tuple(v) if k == "betas" else v for k, v in g.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: np.array(getattr(v, "_data", v), dtype=p._data.dtype)
                             if isinstance(v, (Tensor, np.ndarray)) else v for k, v in s.items()}

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """A new group, the optimizer's defaults filling what it does not set (torch's rule)."""
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if any(id(p) in {id(q) for q in self._params()} for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                clear_grad(p, set_to_none)


def torch_flags(foreach: Any, differentiable: bool, fused: Any, **more: Any) -> dict[str, Any]:
    """torch's implementation switches: kept in the param groups as torch keeps them; only the
    defaults are supported (foreach is a speed switch and is accepted as given)."""
    if differentiable or fused or any(more.values()):
        raise NotImplementedError("crossgrad's optimizers support differentiable=False, fused=None "
                                  "and capturable=False only")
    return {"foreach": foreach, "differentiable": differentiable, "fused": fused, **more}


class SGD(Optimizer):
    """p -= lr * d, d = grad + wd p, then momentum buffer b = mu b + (1 - dampening) d."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, **torch_flags(foreach, differentiable, fused)}
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    self._update(p, group)
        return loss

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        d = p._grad._data  # type: ignore[union-attr]
        d = -d if group.get("maximize") else d
        if group["weight_decay"]:
            d = d + group["weight_decay"] * p._data
        mu = group["momentum"]
        if mu:
            state = self.state.setdefault(p, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * d
            d = d + mu * buf if group["nesterov"] else buf
        p._data -= group["lr"] * d
