import time

import numpy as np


def grad_square(x):
    time.sleep(100)
    return {"x": 2 * x}


def grad_tanh_sum(x, w):
    return {"w": np.outer(x, 1 - np.tanh(x @ w) ** 2)}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
