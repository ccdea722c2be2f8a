import numpy as np


def grad_mlp_stages(x, w1, b1, w2, y):
    z = x @ w1 + b1
    h = np.maximum(z, 0)
    out = h @ w2
    dout = 2 * (out - y) / out.size
    dh = dout @ w2.T
    dz = dh * (z > 0)
    return {"h": dh, "z": dz, "w1": x.T @ dz}
