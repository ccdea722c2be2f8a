"""Order-2 graphs above the exact tier's size (issue 14: the tensor tier's Hessian-vector
products), written once for torch and crossgrad. Values and directions come from numpy seeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

DIRECTIONS = 2


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def tanh_mlp(lib: Any) -> tuple[Any, dict[str, Any]]:
    """x (16, 8) -> Linear(8, 64) -> tanh -> Linear(64, 4) -> cross_entropy: 836 weights."""
    rng = _rng(11)
    x, t = rng.standard_normal((16, 8)), rng.integers(0, 4, 16)
    p = {"w1": rng.standard_normal((64, 8)) / np.sqrt(8), "b1": rng.standard_normal(64) * 0.1,
         "w2": rng.standard_normal((4, 64)) / 8, "b2": rng.standard_normal(4) * 0.1}
    ps = {k: lib.tensor(v, requires_grad=True) for k, v in p.items()}
    f = lib.nn.functional
    h = lib.tanh(f.linear(lib.tensor(x), ps["w1"], ps["b1"]))
    return f.cross_entropy(f.linear(h, ps["w2"], ps["b2"]), lib.tensor(t)), ps


def norm_block(lib: Any) -> tuple[Any, dict[str, Any]]:
    """layer_norm(32) -> linear -> gelu -> softmax, weighted: x, the norm's affine and W differentiable."""
    rng = _rng(12)
    p = {"x": rng.standard_normal((6, 32)), "gamma": 1 + 0.1 * rng.standard_normal(32),
         "beta": 0.1 * rng.standard_normal(32), "w": rng.standard_normal((16, 32)) / np.sqrt(32)}
    c = rng.standard_normal((6, 16))
    ps = {k: lib.tensor(v, requires_grad=True) for k, v in p.items()}
    f = lib.nn.functional
    h = f.layer_norm(ps["x"], (32,), ps["gamma"], ps["beta"])
    y = lib.softmax(f.gelu(f.linear(h, ps["w"])), -1)
    return (y * lib.tensor(c)).sum(), ps


def conv_net(lib: Any) -> tuple[Any, dict[str, Any]]:
    """conv2d(1 -> 3, 3x3, padding 1) -> tanh -> flatten -> linear -> mse: 3 * 9 + 3 + 2 * 3 * 36 + 2 weights."""
    rng = _rng(13)
    x, y = rng.standard_normal((2, 1, 6, 6)), rng.standard_normal((2, 2))
    p = {"k": rng.standard_normal((3, 1, 3, 3)) / 3, "kb": 0.1 * rng.standard_normal(3),
         "w": rng.standard_normal((2, 108)) / np.sqrt(108), "b": 0.1 * rng.standard_normal(2)}
    ps = {k: lib.tensor(v, requires_grad=True) for k, v in p.items()}
    f = lib.nn.functional
    h = lib.tanh(f.conv2d(lib.tensor(x), ps["k"], ps["kb"], padding=1)).flatten(1)
    return f.mse_loss(f.linear(h, ps["w"], ps["b"]), lib.tensor(y)), ps


GRAPHS: dict[str, Callable[[Any], tuple[Any, dict[str, Any]]]] = {
    "tanh_mlp": tanh_mlp, "norm_block": norm_block, "conv_net": conv_net}


def directions(params: dict[str, Any]) -> list[dict[str, np.ndarray]]:
    """DIRECTIONS fixed directions, one array per parameter (by name)."""
    rng = _rng(99)
    return [{k: rng.standard_normal(tuple(t.shape)) for k, t in params.items()} for _ in range(DIRECTIONS)]


def double_backward(lib: Any, name: str) -> list[dict[str, np.ndarray]]:
    """H v by the library's own double backward, per direction and parameter."""
    loss, ps = GRAPHS[name](lib)
    keys = list(ps)
    grads = lib.autograd.grad(loss, [ps[k] for k in keys], create_graph=True)
    out = []
    for v in directions(ps):
        total = sum((g * lib.tensor(v[k])).sum() for g, k in zip(grads, keys))
        hv = lib.autograd.grad(total, [ps[k] for k in keys], retain_graph=True)
        out.append({k: h.detach().numpy() for k, h in zip(keys, hv)})
    return out
