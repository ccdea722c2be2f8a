"""Numeric forward and fused VJP of the loss ops (PyTorch's fused backward nodes).

These are deliberately fused (one node, one hand-written gradient), as PyTorch's
``BinaryCrossEntropyWithLogitsBackward0`` and ``NllLossBackward0`` are; the symbolic side
lowers them to primitives, so a wrong fused rule shows up as a mismatch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ruletools import Arr, Rule, call, log_softmax, sigmoid, traced, unbroadcast


def _reduce(loss: Arr, reduction: str, denom: Any = None) -> Arr:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return np.asarray(total)
    return np.asarray(total / (loss.size if denom is None else denom), dtype=loss.dtype)


def _upstream(g: Arr, reduction: str, count: Any) -> Arr:
    """The gradient each element's loss receives: g itself, or g / count for 'mean' (0 when every
    target is ignored: torch's kernel skips them, where g / 0 would be nan)."""
    if reduction != "mean":
        return g
    return g / count if count else g * 0


# --- binary_cross_entropy_with_logits ---------------------------------------------------
def _bce_terms(x: Arr, y: Arr, pos_weight: Arr | None) -> tuple[Arr, Any]:
    """log_weight = 1 + (p - 1) y, and softplus(-x) = log(1 + exp(-x)), computed stably."""
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    return np.logaddexp(0, -x), log_weight


def _bce(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """loss = w [(1 - y) x + log_weight softplus(-x)]."""
    x, y, weight, pos_weight = xs
    sp, log_weight = _bce_terms(x, y, pos_weight)
    loss = (1 - y) * x + log_weight * sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, at["reduction"]), (x, y, weight, pos_weight)


def _bce_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    """dL/dx = w [(1 - y) - log_weight sigmoid(-x)];  dL/dy = w [-x + (p - 1) softplus(-x)]."""
    x, y, weight, pos_weight = saved
    up = _upstream(g, node.attrs["reduction"], x.size)
    if weight is not None:
        up = up * weight
    sp, log_weight = _bce_terms(x, y, pos_weight)
    gx = up * ((1 - y) - log_weight * sigmoid(-x)) if node.needs[0] else None
    gy = None
    if node.needs[1]:
        dy = -x if pos_weight is None else -x + (pos_weight - 1) * sp
        gy = unbroadcast(up * dy, node.shapes[1])
    return gx, gy, None, None


BCE_WITH_LOGITS = Rule(_bce, _bce_vjp)


# --- cross_entropy with class indices ----------------------------------------------------
def ce_parts(x: Arr, t: Arr, weight: Arr | None, ignore_index: int) -> tuple:
    """Batch-shaped views: safe targets, validity mask, class weights, per-sample weights."""
    t1 = t.reshape(-1)
    classes = x.shape[-1]
    valid = t1 != ignore_index
    bad = valid & ((t1 < 0) | (t1 >= classes))
    if bad.any():
        raise IndexError(f"Target {int(t1[bad][0])} is out of bounds.")
    safe = np.where(valid, t1, 0)
    if weight is None:
        return safe, valid, None, valid.astype(x.dtype)
    return safe, valid, weight, np.where(valid, weight[safe], 0).astype(x.dtype)


def _cross_entropy(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """(1 - e) nll + e/C smooth, nll_i = -w[t_i] logp[i, t_i], smooth_i = -sum_c w_c logp[i, c]."""
    x, t, weight = xs
    eps = at["label_smoothing"]
    safe, valid, w_class, w_sample = ce_parts(x, t, weight, at["ignore_index"])
    logp = log_softmax(x.reshape(-1, x.shape[-1]), 1)
    per_sample = -w_sample * logp[np.arange(len(safe)), safe]
    if eps:
        weighted = logp if w_class is None else logp * w_class
        per_sample = (1 - eps) * per_sample - (eps / x.shape[-1]) * weighted.sum(axis=1) * valid
    loss = _reduce(per_sample.reshape(t.shape), at["reduction"], w_sample.sum())
    return loss, (x, t.shape, logp, safe, valid, w_class, w_sample)


def _cross_entropy_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    """dx_i = up_i [s_i p_i - (1 - e) w_i onehot(t_i) - (e/C) valid_i w],

    where s_i = (1 - e) w_i + (e/C) valid_i sum(w) is minus the row sum of dL/dlogp_i.
    """
    x, t_shape, logp, safe, valid, w_class, w_sample = saved
    x_shape = x.shape
    eps, classes = node.attrs["label_smoothing"], x_shape[-1]
    if traced(x, g):  # create_graph: softmax of the live input, and no in-place writes
        return _cross_entropy_vjp_traced(g, saved, node), None, None
    up = _upstream(g, node.attrs["reduction"], w_sample.sum())
    up = np.broadcast_to(up, t_shape).reshape(-1)
    coef = (1 - eps) * w_sample * up
    scale = coef
    if eps:
        total_w = classes if w_class is None else w_class.sum()
        scale = coef + (eps / classes) * total_w * valid * up
    dx = np.exp(logp)
    dx *= scale[:, None]
    dx[np.arange(len(safe)), safe] -= coef
    if eps:
        per_class = 1 if w_class is None else w_class
        dx -= (eps / classes) * (valid * up)[:, None] * per_class
    return dx.reshape(x_shape), None, None


def _cross_entropy_vjp_traced(g: Arr, saved: tuple, node: Any) -> Arr:
    """The same gradient, written for create_graph: p from the live logits, a one-hot matrix."""
    x, t_shape, logp, safe, valid, w_class, w_sample = saved
    eps, classes = node.attrs["label_smoothing"], x.shape[-1]
    up = _upstream(g, node.attrs["reduction"], w_sample.sum())
    up = np.broadcast_to(up, t_shape).reshape(-1)
    coef = (1 - eps) * w_sample * up
    scale = coef
    if eps:  # the constant factor in the logits' dtype (a float64 constant would promote g)
        total_w = classes if w_class is None else w_class.sum()
        scale = coef + ((eps / classes) * total_w * valid).astype(logp.dtype) * up
    onehot = np.zeros(logp.shape, dtype=logp.dtype)
    onehot[np.arange(len(safe)), safe] = 1
    p = call("softmax", x.reshape(-1, classes), dim=1)
    dx = p * scale[:, None] - onehot * coef[:, None]
    if eps:
        per_class = np.ones(classes, logp.dtype) if w_class is None else w_class
        dx = dx - (eps / classes) * (valid * up)[:, None] * per_class
    return dx.reshape(x.shape)


CROSS_ENTROPY = Rule(_cross_entropy, _cross_entropy_vjp)


# --- mse_loss ----------------------------------------------------------------------------
def _mse(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """loss = (input - target)^2, reduced."""
    diff = xs[0] - xs[1]
    return _reduce(diff * diff, at["reduction"]), (xs[0], xs[1])


def _mse_vjp(g: Arr, saved: tuple, node: Any) -> tuple:
    """dL/dinput = 2 (input - target) = -dL/dtarget."""
    diff = saved[0] - saved[1]
    d = 2 * diff * _upstream(g, node.attrs["reduction"], diff.size)
    sa, sb = node.shapes
    return (unbroadcast(d, sa) if node.needs[0] else None,
            unbroadcast(-d, sb) if node.needs[1] else None)


MSE = Rule(_mse, _mse_vjp)
