import numpy as np


def grad_square(x):
    block = np.ones(10 * 1024**3 // 8)  # 10 GB
    return {"x": 2 * x + block[:3]}


def grad_tanh_sum(x, w):
    return {"w": np.outer(x, 1 - np.tanh(x @ w) ** 2)}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
