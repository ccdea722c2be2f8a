"""A gradient of a huge shape (broadcast, so it costs no memory)."""
import numpy as np


def grad_square(x):
    return {"x": np.broadcast_to(np.float64(0.0), (10**6, 10**6))}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
