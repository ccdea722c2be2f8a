"""ATen ops -> catalogue ops found missing by the issue-13 conformance probes (tried first; same
rule shape as aten.py): ``_trilinear``, which ``F.bilinear`` / ``nn.Bilinear`` call and which has no
PyTorch decomposition. ATen's ``_trilinear(i1, i2, i3, expand1, expand2, expand3, sumdim)``
unsqueezes each input at its ``expand`` dims (in increasing order), multiplies the three
(broadcasting) and sums over ``sumdim``: a chain of catalogue unsqueeze, mul and sum.

Also: ``full_like`` / ``zeros_like`` / ``ones_like`` of a tensor the inputs reach (a constant leaf of
the traced shape and dtype: its value never depends on the input's), and the elementwise
``prims`` ops PyTorch's reference decompositions emit (``prims.add``, ``prims.sqrt``, ...: the
catalogue op of the same name, as their ATen twins).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aten import Rule, _binary, _chunk, _slices, _split, _unary, arg


def _trilinear(e: Any, a: tuple, k: dict) -> str | None:
    tensors = [a[0], a[1], a[2]]
    if not all(isinstance(t, str) for t in tensors):
        return None
    expanded = []
    for i, t in enumerate(tensors):
        for dim in sorted(int(d) for d in arg(a, k, 3 + i, f"expand{i + 1}", ())):
            t = e.op("unsqueeze", [t], dim=dim)
        expanded.append(t)
    product = e.op("mul", [e.op("mul", [expanded[0], expanded[1]]), expanded[2]])
    sumdim = tuple(sorted(int(d) for d in arg(a, k, 6, "sumdim", ())))
    return e.op("sum", [product], dim=sumdim, keepdim=False) if sumdim else product


def _full_like(fill: float | None) -> Rule:
    """A constant of the traced shape and (floating) dtype; ``fill`` None: argument 1 gives it."""
    def rule(e: Any, a: tuple, k: dict) -> str | None:
        dtype = e.out_dtype()
        if dtype is None or not np.issubdtype(dtype, np.floating):
            return None
        value = float(arg(a, k, 1, "fill_value") if fill is None else fill)
        return e.leaf("full", np.full(e.out_shape(), value, dtype=dtype), False)
    return rule


_PRIMS_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "atan2")
_PRIMS_UNARY = ("neg", "exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos", "tanh", "log1p", "expm1", "erf",
                "reciprocal", "sigmoid")

CONFORM: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten._trilinear.default": (("unsqueeze", "mul", "sum"), _trilinear),
    "aten.unsafe_chunk.default": (("slice",), _chunk),  # split's pieces, not views (GRUCell, LSTMCell)
    "aten.unsafe_split.Tensor": (("slice",), _split),
    "aten.unsafe_split_with_sizes.default": (("slice",), lambda e, a, k: _slices(e, a[0], list(a[1]),
                                                                                 arg(a, k, 2, "dim", 0))),
    "aten.full_like.default": ((), _full_like(None)),
    "aten.zeros_like.default": ((), _full_like(0.0)),
    "aten.ones_like.default": ((), _full_like(1.0)),
    **{f"prims.{op}.default": ((op,), _binary(op)) for op in _PRIMS_BINARY},
    **{f"prims.{op}.default": ((op,), _unary(op)) for op in _PRIMS_UNARY},
}
