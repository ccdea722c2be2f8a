"""Elementwise numpy functions evaluated a cache-sized chunk at a time.

A compiled template (and its partials) is a chain of numpy ufuncs over whole arrays: on a
524,288-element gelu each of its ~40 passes (erf's polynomial included) streams 4 MB through
memory. Elementwise means every output element depends on the same element of each input only,
so running the same function on slices gives the same bits; on slices that fit a core's cache
the passes cost about half as much.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

CHUNK = 32768  # elements per call: a few float64 work arrays of 128 KiB stay in a core's L2
MIN_SIZE = 4 * CHUNK  # smaller arrays: one call


def chunkable(inputs: Sequence[Any], shape: tuple[int, ...]) -> bool:
    """Whether every input is a float64 array of exactly ``shape`` (no broadcasting), big enough."""
    return (len(shape) > 0 and int(np.prod(shape)) >= MIN_SIZE and
            all(type(x) is np.ndarray and x.shape == shape and x.dtype == np.float64 for x in inputs))


def evaluate(fn: Callable[..., Any], inputs: Sequence[Any], shape: tuple[int, ...]) -> list[Any] | None:
    """``fn(*inputs)`` (a list of results) computed chunk by chunk into whole arrays; None when a
    result is not an elementwise array of its chunk's size (a constant partial): call it whole."""
    flats = [np.ascontiguousarray(x).reshape(-1) for x in inputs]
    size = flats[0].size
    outs: list[np.ndarray] = []
    for start in range(0, size, CHUNK):
        parts = fn(*[f[start:start + CHUNK] for f in flats])
        count = min(CHUNK, size - start)
        if not all(isinstance(p, np.ndarray) and p.shape == (count,) for p in parts):
            return None
        if not outs:
            outs = [np.empty(size, np.result_type(p)) for p in parts]
        for out, part in zip(outs, parts):
            out[start:start + count] = part
    return [out.reshape(shape) for out in outs]
