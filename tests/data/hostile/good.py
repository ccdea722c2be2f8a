import numpy as np


def grad_square(x):
    return {"x": 2 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size + np.zeros_like(x)}
