"""Elementwise kernels run one cache-sized chunk at a time.

A chain of numpy ops over whole arrays streams every intermediate through memory; over a
16K-element chunk each intermediate stays in L2. The ops per element are the same, so the
result is the same, bit for bit. Under create_graph (tensors, not arrays) a kernel runs whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .ruletools import traced

CHUNK = 16384


def chunked(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """``fn(*args)`` chunk by chunk when its array arguments are big, C-contiguous and of one shape."""

    def run(*args: Any) -> np.ndarray:
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        if not arrays or arrays[0].size < 2 * CHUNK or traced(*args):
            return fn(*args)
        shape = arrays[0].shape
        if any(a.shape != shape or not a.flags.c_contiguous for a in arrays):
            return fn(*args)  # (a strided input keeps numpy's own output layout)
        flat = [a.reshape(-1) if isinstance(a, np.ndarray) else a for a in args]
        size = arrays[0].size
        out: np.ndarray | None = None
        for start in range(0, size, CHUNK):
            piece = fn(*[a[start:start + CHUNK] if isinstance(a, np.ndarray) else a for a in flat])
            if out is None:
                out = np.empty(size, piece.dtype)
            out[start:start + CHUNK] = piece
        assert out is not None
        return out.reshape(shape)

    return run
