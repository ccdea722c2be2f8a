"""torch's IndexError for a dim argument out of range, checked before an op's forward runs: several
numeric forwards wrap dims with ``%`` for speed, so ``x.sum(3)`` of a 2-d tensor summed dim 1."""

from __future__ import annotations

from typing import Any

from .. import ops
from ..shapes import norm_dim

_ONE_MORE = frozenset({"unsqueeze", "stack"})  # these index the output's dims (one more)
_NAMES = ("dim", "dims", "start_dim", "end_dim", "dim0", "dim1")
DIM_ATTRS = {name: tuple(a.name for a in spec.attrs if a.name in _NAMES) for name, spec in ops.CATALOGUE.items()}
DIM_OPS = frozenset(name for name, attrs in DIM_ATTRS.items() if attrs)


def check(op: str, xs: tuple, attrs: dict) -> None:
    """Raise DimError (a ShapeError and an IndexError) naming the op when a dim is out of range."""
    x = xs[0]
    if x is None:
        return
    ndim = x.ndim + 1 if op in _ONE_MORE else x.ndim
    size = ndim or 1
    for name in DIM_ATTRS[op]:
        value: Any = attrs.get(name)
        if value is None or type(value) is int and -size <= value < size:
            continue  # the common case, without a call
        for d in (value if isinstance(value, (tuple, list)) else (value,)):
            norm_dim(op, int(d), ndim)
