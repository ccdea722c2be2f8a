"""``crossgrad.optim.SGD``: PyTorch's SGD (momentum, dampening, weight decay, Nesterov)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor, clear_grad


class Optimizer:
    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {params.type()}")  # type: ignore[attr-defined]
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = [{**defaults, **g, "params": _leaves(g["params"])} for g in groups]
        if sum(len({id(p) for p in g["params"]}) for g in self.param_groups) != len({id(p) for p in self._params()}):
            raise ValueError("some parameters appear in more than one parameter group")
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
        buffers as tensors (copies), so ``crossgrad.save`` can write it."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: Tensor._make(np.array(v._data)) if isinstance(v, Tensor) else v
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
            self.state[p] = {k: _loaded(k, v, p) for k, v in s.items()}

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """A new group, the optimizer's defaults filling what it does not set (torch's rule)."""
        params = _leaves(param_group["params"])
        if any(id(p) in {id(q) for q in self._params()} for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                clear_grad(p, set_to_none)


def buffer(like: np.ndarray, fill: float = 0.0) -> Tensor:
    """A state buffer: a tensor (as torch's ``opt.state[p]``) whose array the update works on in place."""
    return Tensor._make(np.full_like(like, fill))


def step_count() -> Tensor:
    """torch's ``state["step"]``: a float32 0-d tensor."""
    return Tensor._make(np.zeros((), np.float32))


def _loaded(key: str, value: Any, p: Tensor) -> Any:
    """A loaded state value as a tensor: buffers take the parameter's dtype, ``step`` stays float32."""
    if key == "step":
        return Tensor._make(np.array(getattr(value, "_data", value), np.float32))
    if isinstance(value, (Tensor, np.ndarray)):
        return Tensor._make(np.array(getattr(value, "_data", value), dtype=p._data.dtype))
    return value


def _leaves(params: Any) -> list[Tensor]:
    """A group's parameters as a list, torch's refusal of a tensor that is not a leaf."""
    params = [params] if isinstance(params, Tensor) else list(params)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError("can't optimize a non-leaf Tensor")
    return params


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
            held = state.get("momentum_buffer")
            if held is None:
                state["momentum_buffer"] = Tensor._make(np.array(d, copy=True))
                buf = state["momentum_buffer"]._data
            else:
                buf = held._data
                buf *= mu
                buf += (1 - group["dampening"]) * d
            d = d + mu * buf if group["nesterov"] else buf
        p._data -= group["lr"] * d
