"""ATen ops -> chains of catalogue ops, fourth table (tried first; same rule shape, see aten.py):
cumprod, cdist and out-of-place index_put (index_fill, index_add, index_copy and masked writes of
a copy decompose into it).

- ``cumprod`` along ``dim``: the product over a stack whose copy i keeps elements 0..i and holds
  1 beyond (``masked_fill(x[.., None, :], j > i, 1).prod(-1)``). prod's gradient is exact at zeros
  (products of the others), as torch's cumprod backward; exp(cumsum(log x)) would not be.
- ``cdist(x1, x2, p)`` for p = 1 and 2: the p-norm over the last dim of the broadcast differences
  ``x1[.., :, None, :] - x2[.., None, :, :]``. norm's gradient at a zero difference is torch's
  (0 for p = 2, sign(0) = 0 for p = 1).
- ``index_put(x, indices, values, accumulate)`` with indices known at capture: torch itself says
  which flat elements are written (as for advanced-index reads, aten_more.py); the values are
  added there by the catalogue's scatter_add into the flattened input, after those elements are
  zeroed (masked_fill) unless ``accumulate``. A write without ``accumulate`` that repeats an
  element declines (torch leaves which write wins undefined) and is refused by name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .aten import Emit, Rule, arg
from .aten_more import FLOATS, _positions

STACK_MAX = 10_000_000  # elements of cumprod's (.., n, n, ..) stack; beyond: refused by name


def _cumprod(e: Any, a: tuple, k: dict) -> str | None:
    x, shape, dtype = a[0], e.shape(a[0]), arg(a, k, 2, "dtype")
    if dtype is not None:
        target = e.out_dtype()
        if target not in FLOATS:
            return None
        if target is not e.dtype(x):
            x = e.op("to_dtype", [x], dtype=np.dtype(target).name)
    if not shape:
        return x
    d = int(arg(a, k, 1, "dim")) % len(shape)
    n = shape[d]
    if n * math.prod(shape) > STACK_MAX:
        return None
    stack = e.op("expand", [e.op("unsqueeze", [x], dim=d)], size=shape[:d] + (n, n) + shape[d + 1:])
    beyond = np.triu(np.ones((n, n), bool), 1).reshape((n, n) + (1,) * (len(shape) - d - 1))
    kept = e.op("masked_fill", [stack, e.leaf("cumprod_beyond", beyond, False)], value=1.0)
    return e.op("prod", [kept], dim=(d + 1,), keepdim=False)


def _cdist(p_at: int | None) -> Rule:
    """cdist / _cdist_forward (p is argument ``p_at``) and _euclidean_dist (p = 2, ``p_at`` None)."""
    def rule(e: Emit, a: tuple, k: dict) -> str | None:
        x1, x2 = a[0], a[1]
        p = 2.0 if p_at is None else float(arg(a, k, p_at, "p", 2.0))
        r1, r2 = len(e.shape(x1)), len(e.shape(x2))
        if p not in (1.0, 2.0) or min(r1, r2) < 2:
            return None
        rows = e.op("unsqueeze", [x1], dim=r1 - 1)  # (.., P, 1, M)
        cols = e.op("unsqueeze", [x2], dim=r2 - 2)  # (.., 1, R, M)
        return e.op("norm", [e.op("sub", [rows, cols])], p=p, dim=(-1,), keepdim=False)
    return rule


def _index_put(e: Any, a: tuple, k: dict) -> str | None:
    x, indices, values = a[0], list(a[1]), a[2]
    accumulate = bool(arg(a, k, 3, "accumulate", False))
    known = [None if i is None else e.value(i) for i in indices]
    if any(v is None for i, v in zip(indices, known) if i is not None) or not isinstance(values, str):
        return None  # an index that is not known data: refused by name
    shape = e.shape(x)
    positions = _positions(shape, known)
    if not accumulate and np.unique(positions).size < positions.size:
        return None
    flat = e.op("reshape", [x], shape=(-1,))
    if not accumulate:
        written = np.zeros(math.prod(shape), bool)
        written[positions.ravel()] = True
        flat = e.op("masked_fill", [flat, e.leaf("written", written, False)], value=0.0)
    if e.shape(values) != positions.shape:
        values = e.op("expand", [values], size=tuple(positions.shape))
    src = e.op("reshape", [values], shape=(-1,))
    out = e.op("scatter_add", [flat, e.leaf("positions", positions.reshape(-1), False), src], dim=0)
    return e.op("reshape", [out], shape=tuple(shape))


CHAINS: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.cumprod.default": (("unsqueeze", "expand", "masked_fill", "prod"), _cumprod),
    "aten.cdist.default": (("unsqueeze", "sub", "norm"), _cdist(2)),
    "aten._cdist_forward.default": (("unsqueeze", "sub", "norm"), _cdist(2)),
    "aten._euclidean_dist.default": (("unsqueeze", "sub", "norm"), _cdist(None)),
    "aten.index_put.default": (("reshape", "masked_fill", "expand", "scatter_add"), _index_put),
}
