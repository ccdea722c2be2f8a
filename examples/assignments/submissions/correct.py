"""A correct submission for backprop_basics.toml."""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def grad_linear_bce(x, w, b, y):
    dz = (sigmoid(x @ w + b) - y) / y.size  # BCE-with-logits, mean over every element
    return {"w": x.T @ dz, "b": dz.sum(axis=0)}


def grad_softmax_ce(x, w, t):
    z = x @ w
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(t)), t] -= 1
    return {"w": x.T @ (p / len(t))}


def grad_mlp2(x, w1, b1, w2, y):
    a = x @ w1 + b1
    h = np.maximum(a, 0)
    d_out = 2 * (h @ w2 - y) / y.size
    d_a = (d_out @ w2.T) * (a > 0)
    return {"w1": x.T @ d_a, "w2": h.T @ d_out}
