"""Numeric forward and hand-written VJP of the pointwise losses (engine/loss_specs.py): an
elementwise loss l(input, target) times the optional weight, then the reduction. Each entry of
:data:`_PARTS` is (loss, (d loss / d input, d loss / d target))."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .ruletools import Arr, Rule, data


def _smooth_l1(x: Arr, y: Arr, at: dict) -> Arr:
    d, beta = x - y, at["beta"]
    return np.abs(d) if beta == 0 else np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


def _smooth_l1_grad(x: Arr, y: Arr, at: dict) -> Arr:
    d, beta = x - y, at["beta"]
    return np.sign(d) if beta == 0 else np.where(np.abs(d) < beta, d / beta, np.sign(d))


def _huber(x: Arr, y: Arr, at: dict) -> Arr:
    d, delta = x - y, at["delta"]
    return np.where(np.abs(d) <= delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _huber_grad(x: Arr, y: Arr, at: dict) -> Arr:
    """d inside |d| < delta, else delta sign(d): torch's double backward is 0 at |d| == delta."""
    d, delta = x - y, at["delta"]
    return np.where(np.abs(d) < delta, d, delta * np.sign(d))


def _kl(x: Arr, y: Arr, at: dict) -> Arr:
    """target (log target - input); 0 where target == 0 (xlogy)."""
    if at["log_target"]:
        return np.exp(y) * (y - x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, -y * x, y * (np.log(y) - x))


def _kl_grads(x: Arr, y: Arr, at: dict) -> tuple[Arr, Arr]:
    if at["log_target"]:
        return -np.exp(y), np.exp(y) * (y - x + 1)
    with np.errstate(divide="ignore"):
        return -y, np.log(y) + 1 - x


def _clamped_logs(x: Arr) -> tuple[Arr, Arr]:
    """log(x) and log(1 - x), each clamped at -100 as torch's binary_cross_entropy does."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)


def _bce(x: Arr, y: Arr, at: dict) -> Arr:
    log_x, log_1mx = _clamped_logs(x)
    return -(y * log_x + (1 - y) * log_1mx)


def _bce_grads(x: Arr, y: Arr, at: dict) -> tuple[Arr, Arr]:
    """d/dx = (x - y) / max(x (1 - x), 1e-12); d/dy = log(1 - x) - log(x) (clamped logs)."""
    log_x, log_1mx = _clamped_logs(x)
    return (x - y) / np.maximum(x * (1 - x), x.dtype.type(1e-12)), log_1mx - log_x


def _opposite(grad: Callable[[Arr, Arr, dict], Arr]) -> Callable[[Arr, Arr, dict], tuple[Arr, Arr]]:
    """Losses of d = input - target: d/d target = -d/d input."""
    return lambda x, y, at: (grad(x, y, at), -grad(x, y, at))


_PARTS: dict[str, tuple[Callable, Callable]] = {
    "l1_loss": (lambda x, y, at: np.abs(x - y), _opposite(lambda x, y, at: np.sign(x - y))),
    "smooth_l1_loss": (_smooth_l1, _opposite(_smooth_l1_grad)),
    "huber_loss": (_huber, _opposite(_huber_grad)),
    "kl_div": (_kl, _kl_grads),
    "binary_cross_entropy": (_bce, _bce_grads),
}


def _reduce(loss: Arr, reduction: str) -> Arr:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return np.asarray(total)
    count = loss.shape[0] if reduction == "batchmean" and loss.ndim else loss.size
    return np.asarray(total / count)


def _spread(g: Arr, shape: tuple, reduction: str) -> Arr:
    """The reduction's backward: g over every element (divided by the count for the means)."""
    if reduction == "none":
        return g
    count = 1 if reduction == "sum" else shape[0] if reduction == "batchmean" and shape else int(np.prod(shape))
    return np.broadcast_to(g / count, shape)


def _loss_rule(op: str) -> Rule:
    loss, grads = _PARTS[op]

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        x, y = xs[0], xs[1]
        w = xs[2] if len(xs) > 2 else None
        out = loss(x, y, at)
        return _reduce(out if w is None else out * w, at["reduction"]).astype(x.dtype, copy=False), (x, y, w)

    def vjp(g: Arr, saved: tuple, node: Any) -> tuple:
        x, y, w = saved
        gl = _spread(g, x.shape, node.attrs["reduction"])
        if w is not None:
            gl = gl * w
        dx, dy = grads(x, y, node.attrs)
        needs = node.needs
        return (gl * dx if needs[0] else None, gl * dy if needs[1] else None) + (None,) * (len(needs) - 2)

    return Rule(forward, vjp)


def _nll_parts(xs: tuple, at: dict) -> tuple[Arr, Arr, Arr]:
    """(rows (N, C), safe targets (N,), per-sample weights (N,), 0 where ignored)."""
    x, t, w = xs
    rows = x.reshape(-1, x.shape[-1])
    flat = t.reshape(-1)
    ignored = flat == at["ignore_index"]
    safe = np.where(ignored, 0, flat)
    weights = (np.ones(len(flat), x.dtype) if w is None else w[safe].astype(x.dtype)) * ~ignored
    return rows, safe, weights


def _nll(xs: tuple, at: dict) -> tuple[Arr, Any]:
    rows, safe, weights = _nll_parts(xs, at)
    per = -rows[np.arange(len(safe)), safe] * weights
    if at["reduction"] == "none":
        return per.reshape(xs[1].shape), xs
    total = per.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total if at["reduction"] == "sum" else total / weights.sum()
    return np.asarray(out, xs[0].dtype), xs


def _nll_vjp(g: Arr, xs: tuple, node: Any) -> tuple:
    """d loss / d input[i, t_i] = -w[t_i] (times g_i, or g / sum w for 'mean'); 0 elsewhere:
    a constant one-hot matrix times a column linear in g (no scatter, no in-place write)."""
    rows, safe, weights = _nll_parts(tuple(data(x) for x in xs), node.attrs)
    red = node.attrs["reduction"]
    total = weights.sum()
    scale = g.reshape(-1) if red == "none" else (g / total if total else g * 0) if red == "mean" else g
    picked = np.zeros(rows.shape, rows.dtype)
    picked[np.arange(len(safe)), safe] = 1
    grad = picked * (-weights * scale).reshape(-1, 1)
    return grad.reshape(xs[0].shape), None, None


LOSS_RULES: dict[str, Rule] = {op: _loss_rule(op) for op in _PARTS}
LOSS_RULES["nll_loss"] = Rule(_nll, _nll_vjp)
