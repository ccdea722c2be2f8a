import numpy as np


def grad_square(x):
    return {"x": np.full_like(x, np.nan)}


def grad_tanh_sum(x, w):
    return {"w": np.outer(x, 1 - np.tanh(x @ w) ** 2)}


def grad_fixed(x):
    return {"x": 3 * x**2}  # forgot the mean's 1/N (N = 2)
