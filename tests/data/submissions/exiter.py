import os

import numpy as np


def grad_square(x):
    os._exit(3)


def grad_tanh_sum(x, w):
    print("debug output that must not break grading")
    return {"w": np.outer(x, 1 - np.tanh(x @ w) ** 2)}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
