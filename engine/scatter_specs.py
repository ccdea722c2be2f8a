"""Catalogue entry of scatter_add, the adjoint of gather. No math lives here.

``scatter_add(input, index, src, dim)`` is torch.scatter_add(input, dim, index, src): a copy of
input with ``src[i][j]`` added at ``[index[i][j]][j]`` (dim 0; likewise along any dim), repeated
indices adding up. It is what the VJPs of gather, index_select, x[idx] and embedding record under
create_graph, and its own VJP is a gather, so those ops can be differentiated to any order.
crossgrad asks for ``index`` and ``src`` of the same shape (torch also accepts a larger src, of
which only the index's extent is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ShapeError
from .ops import Attr, Case, Input, OpSpec
from .shape_specs import INDEX, REAL, _dim

Shapes = Sequence[Any]


def scatter_add(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    """torch's rule: same rank; index no larger than input except along dim; src = index here."""
    s, idx, src = (tuple(x) for x in shapes)
    d = _dim(op, at["dim"], len(s))
    if len(idx) != len(s) or any(i > n for k, (i, n) in enumerate(zip(idx, s)) if k != d):
        raise ShapeError(op, f"Expected index {list(idx)} to be no larger than self {list(s)} apart from "
                             f"dimension {d} (and of the same number of dims)")
    if src != idx:
        raise ShapeError(op, f"crossgrad's scatter_add needs src of the index's shape: index {list(idx)}, "
                             f"src {list(src)}")
    return s


SCATTER_SPECS: tuple[OpSpec, ...] = (
    OpSpec("scatter_add", (Input("input", REAL), Input("index", INDEX, differentiable=False), Input("src", REAL)),
           scatter_add, "ScatterAddBackward0",
           (Case(((3, 5), (3, 4), (3, 4)), {"dim": 1}), Case(((4, 3), (6, 3), (6, 3)), {"dim": 0}),
            Case(((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"dim": -2}), Case(((), (), ()), {"dim": 0})),
           attrs=(Attr("dim", "int", 0),), kink="repeated indices add up",
           doc="input with src[i][j] added at [i][index[i][j]] along dim (the adjoint of gather)"),
)
