"""The tensor tier's convolution: its index-notation sum over the windows of the zero-padded input,

    Y[n, (g,) o, *i] = Sum(X[n, (g,) c, *i, *k] * W[(g,) o, c, *k], (c, *k)) + b[(g,) o],
    X[n, c, *i, *k] = Z[n, c, s i + d k],   Z = x zero-padded,

differentiated by ``sympy.diff`` (contractions.derive) and compiled to einsums over a strided
window view of Z (no Python loop per output element, no index arrays of im2col size). The
window view is a gather, so its adjoint is the matching scatter-add: one slice-add per kernel
position into the padded buffer, then the padding cropped off.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from ..conv_specs import pairs
from . import contractions as C


@lru_cache(maxsize=64)
def conv_contraction(nd: int, n_c: int, kernel: tuple[int, ...], grouped: bool, bias: bool) -> C.Contraction:
    """The convolution's forward and VJP einsums for ``nd`` spatial dims (groups as a batch index)."""
    n, o, c, g = sp.symbols("n o c g", integer=True)
    spatial = tuple(sp.Symbol(f"i{d}", integer=True) for d in range(nd))
    taps = tuple(sp.Symbol(f"k{d}", integer=True) for d in range(nd))
    X, W, b = sp.IndexedBase("X"), sp.IndexedBase("W"), sp.IndexedBase("b")
    lead = (g,) if grouped else ()
    limits = [(c, 0, n_c - 1)] + [(t, 0, size - 1) for t, size in zip(taps, kernel)]
    expr = sp.Sum(X[(n,) + lead + (c,) + spatial + taps] * W[lead + (o, c) + taps], *limits)
    if bias:
        expr = expr + b[lead + (o,)]
    ranks = {"X": 2 + len(lead) + 2 * nd, "W": len(lead) + 2 + nd, **({"b": len(lead) + 1} if bias else {})}
    return C.derive(expr, (n,) + lead + (o,) + spatial, ranks)


class ConvStep:
    """conv1d/conv2d of one signature: inputs to canonical arrays, the contraction, and back."""

    def __init__(self, shapes: list, attrs: dict, out_shape: tuple) -> None:
        x, w = tuple(shapes[0]), tuple(shapes[1])
        self.nd = nd = len(attrs["stride"])
        self.groups = attrs["groups"]
        self.pads = pairs("conv", attrs["padding"], nd)
        self.stride, self.dil = tuple(attrs["stride"]), tuple(attrs["dilation"])
        self.x_shape, self.w_shape, self.out_shape = x, w, tuple(out_shape)
        self.bias = len(shapes) > 2 and shapes[2] is not None
        self.kernel = w[2:]
        self.contraction = conv_contraction(nd, w[1], self.kernel, self.groups > 1, self.bias)
        g = self.groups
        self.canon_out = (x[0],) + ((g, w[0] // g) if g > 1 else (w[0],)) + self.out_shape[2:]

    def _windows(self, x: np.ndarray) -> np.ndarray:
        """X[n, (g,) c, *i, *k]: a strided view of the zero-padded input (no copy of the windows)."""
        z = np.pad(x, [(0, 0), (0, 0)] + self.pads) if any(lo or hi for lo, hi in self.pads) else x
        n, ch = z.shape[:2]
        strides = z.strides[2:]
        out = self.out_shape[2:]
        view = np.lib.stride_tricks.as_strided(
            z, (n, ch) + out + self.kernel,
            z.strides[:2] + tuple(s * st for s, st in zip(strides, self.stride))
            + tuple(s * d for s, d in zip(strides, self.dil)), writeable=False)
        if self.groups > 1:
            view = view.reshape((n, self.groups, ch // self.groups) + out + self.kernel)
        return view

    def _arrays(self, inputs: list[np.ndarray | None]) -> dict[str, np.ndarray]:
        x, w = inputs[0], inputs[1]
        assert x is not None and w is not None
        g = self.groups
        arrays = {"X": self._windows(x), "W": w.reshape((g, w.shape[0] // g) + w.shape[1:]) if g > 1 else w}
        if self.bias:
            b = inputs[2]
            assert b is not None
            arrays["b"] = b.reshape(g, -1) if g > 1 else b
        return arrays

    def forward(self, inputs: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
        arrays = self._arrays(inputs)
        out = C.evaluate(self.contraction.forward, arrays, self.canon_out)
        return out.reshape(self.out_shape), arrays

    def backward(self, arrays: dict, adjoint: np.ndarray, wants: list[bool]) -> list[np.ndarray | None]:
        known = dict(arrays, G=adjoint.reshape(self.canon_out))
        names = ["X", "W"] + (["b"] if self.bias else [])
        grads: list[np.ndarray | None] = []
        for k, name in enumerate(names):
            if not wants[k]:
                grads.append(None)
                continue
            grad = C.evaluate(self.contraction.vjps[name], known, arrays[name].shape)
            grads.append(self._scatter(grad) if name == "X" else grad.reshape(
                self.w_shape if name == "W" else (self.w_shape[0],)))
        return grads + [None] * (len(wants) - len(grads))

    def _scatter(self, windows_grad: np.ndarray) -> np.ndarray:
        """The window view's adjoint: each kernel tap's slab added back where it was read, then
        the padding cropped (the padded zeros are constants)."""
        nd, x = self.nd, self.x_shape
        padded = tuple(x[2 + d] + lo + hi for d, (lo, hi) in enumerate(self.pads))
        grad = windows_grad.reshape((x[0], x[1]) + self.out_shape[2:] + self.kernel)
        z = np.zeros(x[:2] + padded)
        out = self.out_shape[2:]
        for tap in np.ndindex(*self.kernel):
            where = tuple(slice(self.dil[d] * tap[d], self.dil[d] * tap[d] + self.stride[d] * (out[d] - 1) + 1,
                                self.stride[d]) for d in range(nd))
            z[(slice(None), slice(None)) + where] += grad[(Ellipsis,) + tap]
        crop = tuple(slice(lo, lo + x[2 + d]) for d, (lo, _) in enumerate(self.pads))
        return z[(slice(None), slice(None)) + crop]
