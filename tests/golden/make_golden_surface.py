"""Record torch 2.13's Adam/AdamW parameters and lr-scheduler sequences into surface.json.

Run: .venv/bin/python tests/golden/make_golden_surface.py (needs torch==2.13.0).
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).with_name("surface.json")
OPTIMS = [
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.1}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.5, "amsgrad": True}),
    ("AdamW", {"lr": 0.02, "betas": (0.5, 0.6), "weight_decay": 0.0, "maximize": True}),
]


def _start(dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(4).astype(dtype)]


def _loss(ps, lib):
    """A loss whose gradient changes sign and scale across steps (exercises amsgrad's max)."""
    w, b = ps
    return (w ** 3).sum() * 0.5 - lib.sin(b).sum() + (w * w).sum() * (b * b).sum()


def optim_case(name: str, kwargs: dict, dtype: str) -> dict:
    ps = [torch.tensor(a, requires_grad=True) for a in _start(dtype)]
    opt = getattr(torch.optim, name)(ps, **kwargs)
    for _ in range(3):
        opt.zero_grad()
        _loss(ps, torch).backward()
        opt.step()
    return {"optim": name, "kwargs": kwargs, "dtype": dtype, "params": [p.detach().numpy().tolist() for p in ps]}


SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("CosineAnnealingLR", {"T_max": 5}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.01}),
]


def scheduler_case(name: str, kwargs: dict) -> dict:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    lrs = []
    for _ in range(14):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return {"scheduler": name, "kwargs": kwargs, "lrs": lrs}


def main() -> None:
    data = {
        "torch": torch.__version__,
        "optim": [optim_case(n, k, d) for n, k in OPTIMS for d in ("float32", "float64")],
        "schedulers": [scheduler_case(n, k) for n, k in SCHEDULERS],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
