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

CHUNK_ELEMENTS = 1 << 17  # window elements an einsum call may copy (a contiguous im2col chunk)


def conv_contraction(nd: int, n_c: int, kernel: tuple[int, ...], grouped: bool, bias: bool) -> C.Contraction:
    """The convolution's forward and VJP einsums for ``nd`` spatial dims (groups as a batch index);
    the channel and tap ranges are symbols: one derivation for every n_c and kernel size."""
    return _conv_contraction(nd, grouped, bias)


@lru_cache(maxsize=8)
def _conv_contraction(nd: int, grouped: bool, bias: bool) -> C.Contraction:
    n, o, c, g = sp.symbols("n o c g", integer=True)
    spatial = tuple(sp.Symbol(f"i{d}", integer=True) for d in range(nd))
    taps = tuple(sp.Symbol(f"k{d}", integer=True) for d in range(nd))
    X, W, b = sp.IndexedBase("X"), sp.IndexedBase("W"), sp.IndexedBase("b")
    lead = (g,) if grouped else ()
    limits = [(c, 0, C.size("C") - 1)] + [(t, 0, C.size(f"K{d}") - 1) for d, t in enumerate(taps)]
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

    def _chunks(self) -> list[slice]:
        """Samples per einsum call: the windows an einsum copies stay under CHUNK_ELEMENTS."""
        per_sample = max(1, int(np.prod(self.x_shape[1:2] + self.out_shape[2:] + self.kernel)))
        step = max(1, CHUNK_ELEMENTS // per_sample)
        return [slice(a, a + step) for a in range(0, self.x_shape[0], step)]

    def forward(self, inputs: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
        arrays = self._arrays(inputs)
        out = np.empty(self.canon_out)
        for part in self._chunks():
            chunk = dict(arrays, X=arrays["X"][part])
            out[part] = C.evaluate(self.contraction.forward, chunk, (len(chunk["X"]),) + self.canon_out[1:])
        return out.reshape(self.out_shape), arrays

    def backward(self, arrays: dict, adjoint: np.ndarray, wants: list[bool]) -> list[np.ndarray | None]:
        g = adjoint.reshape(self.canon_out)
        names = ["X", "W"] + (["b"] if self.bias else [])
        shapes = {"W": self.w_shape, "b": (self.w_shape[0],)}
        sums: dict[str, np.ndarray] = {}
        x_grad = self._padded_zeros() if wants[0] else None
        for part in self._chunks():
            known = dict(arrays, X=arrays["X"][part], G=g[part])
            for k, name in enumerate(names):
                if not wants[k]:
                    continue
                shape = known[name].shape
                grad = C.evaluate(self.contraction.vjps[name], known, shape)
                if name == "X":
                    self._scatter(grad, x_grad[part])  # type: ignore[index]
                else:
                    sums[name] = grad if name not in sums else sums[name] + grad
        grads: list[np.ndarray | None] = [None if x_grad is None else self._crop(x_grad)]
        grads += [sums[n].reshape(shapes[n]) if n in sums else None for n in names[1:]]
        return grads + [None] * (len(wants) - len(grads))

    def _padded_zeros(self) -> np.ndarray:
        x = self.x_shape
        return np.zeros(x[:2] + tuple(x[2 + d] + lo + hi for d, (lo, hi) in enumerate(self.pads)))

    def _scatter(self, windows_grad: np.ndarray, z: np.ndarray) -> None:
        """The window view's adjoint: each kernel tap's slab added back into ``z`` (padded) where
        it was read."""
        out = self.out_shape[2:]
        grad = windows_grad.reshape(z.shape[:2] + out + self.kernel)
        for tap in np.ndindex(*self.kernel):
            where = tuple(slice(self.dil[d] * tap[d], self.dil[d] * tap[d] + self.stride[d] * (out[d] - 1) + 1,
                                self.stride[d]) for d in range(self.nd))
            z[(slice(None), slice(None)) + where] += grad[(Ellipsis,) + tap]

    def _crop(self, z: np.ndarray) -> np.ndarray:
        """The padding cropped off (the padded zeros are constants)."""
        crop = tuple(slice(lo, lo + self.x_shape[2 + d]) for d, (lo, _) in enumerate(self.pads))
        return z[(slice(None), slice(None)) + crop]
