"""Catalogue entries of the shape and indexing ops (issue 11, part B). No math lives here.

Index inputs (gather's ``index``, index_select's and ``index``'s ``index``) are int64 leaves
with the ``INDEX`` domain: not differentiable, range-checked at validation against the bound
:data:`INDEX_BOUND` gives (the size of the dim they index).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import DimError, ShapeError
from .ops import Attr, Case, Input, OpSpec

REAL = "real"  # ops.REAL (spelled here: this module is imported while ops is being built)

INDEX = "index"
Shapes = Sequence[Any]


def _dim(op: str, dim: int, ndim: int) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise DimError(op, f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                             f"{max(ndim, 1) - 1}], but got {dim})")
    return dim % max(ndim, 1)


def unsqueeze(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s = tuple(shapes[0])
    d = _dim(op, at["dim"], len(s) + 1)
    return s[:d] + (1,) + s[d:]


def squeeze(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s = tuple(shapes[0])
    if at["dim"] is None:
        return tuple(n for n in s if n != 1)
    if not s:
        _dim(op, at["dim"], 0)
        return s
    d = _dim(op, at["dim"], len(s))
    return s[:d] + s[d + 1:] if s[d] == 1 else s


def expand(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s, size = tuple(shapes[0]), tuple(at["size"])
    if len(size) < len(s):
        raise ShapeError(op, f"the number of sizes provided ({len(size)}) must be greater or equal to "
                             f"the number of dimensions in the tensor ({len(s)})")
    lead = len(size) - len(s)
    out = []
    for i, n in enumerate(size):
        have = s[i - lead] if i >= lead else None
        want = have if n == -1 and have is not None else n
        if want < 0 or (have is not None and have != 1 and have != want):
            raise ShapeError(op, f"The expanded size of the tensor ({n}) must match the existing size "
                                 f"({have}) at non-singleton dimension {i}. Target sizes: {list(size)}. "
                                 f"Tensor sizes: {list(s)}")
        out.append(want)
    return tuple(out)


def repeat(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s, reps = tuple(shapes[0]), tuple(at["repeats"])
    if len(reps) < len(s) or any(r < 0 for r in reps):
        raise ShapeError(op, f"Number of dimensions of repeat dims {list(reps)} can not be smaller than "
                             f"number of dimensions of tensor {list(s)} (and no repeat may be negative)")
    s = (1,) * (len(reps) - len(s)) + s
    return tuple(a * r for a, r in zip(s, reps))


def flip(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s = tuple(shapes[0])
    dims = [_dim(op, d, len(s)) for d in at["dims"]]
    if len(set(dims)) != len(dims):
        raise ShapeError(op, f"dims {list(at['dims'])} has a repeated dim")
    return s


def gather(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s, idx = tuple(shapes[0]), tuple(shapes[1])
    d = _dim(op, at["dim"], len(s))
    if len(idx) != len(s) or any(i > n for k, (i, n) in enumerate(zip(idx, s)) if k != d):
        raise ShapeError(op, f"Size does not match at dimension: index {list(idx)} vs input {list(s)} "
                             f"(index may be smaller than input except at dim {d}, same number of dims)")
    return idx


def index_select(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s, idx = tuple(shapes[0]), tuple(shapes[1])
    d = _dim(op, at["dim"], len(s))
    if len(idx) > 1:
        raise ShapeError(op, f"index_select(): Index is supposed to be a vector, got shape {list(idx)}")
    n = idx[0] if idx else 1
    return (s[:d] + (n,) + s[d + 1:]) if s else ()


def index(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    s, idx = tuple(shapes[0]), tuple(shapes[1])
    if not s:
        raise ShapeError(op, "a 0-d tensor cannot be indexed by a tensor")
    return idx + s[1:]


def cat(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    """torch.cat: same rank, equal sizes except along dim (which adds up)."""
    first = tuple(shapes[0])
    if not first:
        raise ShapeError(op, "zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim(op, at["dim"], len(first))
    total = 0
    for k, s in enumerate(shapes):
        s = tuple(s)
        if len(s) != len(first) or s[:d] + s[d + 1:] != first[:d] + first[d + 1:]:
            same_rank = len(s) == len(first)
            bad = next((i for i in range(len(s)) if i != d and s[i] != first[i]), None) if same_rank else None
            words = "" if bad is None else (f" Expected size {first[bad]} but got size {s[bad]} for tensor number {k} "
                                            "in the list.")
            raise ShapeError(op, f"Sizes of tensors must match except in dimension {d}: tensor 0 has shape "
                                 f"{list(first)}, tensor {k} has shape {list(s)}.{words}")
        total += s[d]
    return first[:d] + (total,) + first[d + 1:]


def stack(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    """torch.stack: equal shapes, a new dim at dim."""
    first = tuple(shapes[0])
    d = _dim(op, at["dim"], len(first) + 1)
    for k, s in enumerate(shapes):
        if tuple(s) != first:
            raise ShapeError(op, f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                                 f"and {list(s)} at entry {k}")
    return first[:d] + (len(shapes),) + first[d:]


def _index_dim_bound(shapes: Shapes, at: dict) -> int:
    s = tuple(shapes[0])
    return s[at["dim"] % max(len(s), 1)] if s else 1


INDEX_BOUND: dict[str, Callable[[Shapes, dict], int]] = {
    "gather": _index_dim_bound,
    "index_select": _index_dim_bound,
    "index": lambda shapes, at: shapes[0][0],
    "embedding": lambda shapes, at: shapes[1][0],
    "scatter_add": _index_dim_bound,
}


def _x() -> tuple[Input, ...]:
    return (Input("input", REAL),)


def _xi() -> tuple[Input, ...]:
    return (Input("input", REAL), Input("index", INDEX, differentiable=False))


def _squeeze_name(shapes: Shapes, at: Mapping[str, Any]) -> str:
    return "SqueezeBackward0" if at.get("dim") is None else "SqueezeBackward1"


_TENSORS = (Input("tensors", REAL, variadic=True),)

SHAPE_SPECS: tuple[OpSpec, ...] = (
    OpSpec("cat", _TENSORS, cat, "CatBackward0",
           (Case(((2, 3), (4, 3)), {"dim": 0}), Case(((2, 1), (2, 3), (2, 2)), {"dim": -1}),
            Case(((5,),), {"dim": 0})),
           attrs=(Attr("dim", "int", 0),), doc="join one or more tensors along dim (a variadic input)"),
    OpSpec("stack", _TENSORS, stack, "StackBackward0",
           (Case(((2, 3), (2, 3), (2, 3)), {"dim": 1}), Case(((3,), (3,)), {"dim": -1}), Case(((), ()), {"dim": 0})),
           attrs=(Attr("dim", "int", 0),), doc="join equal-shape tensors along a new dim"),
    OpSpec("unsqueeze", _x(), unsqueeze, "UnsqueezeBackward0",
           (Case(((2, 3),), {"dim": 1}), Case(((3,),), {"dim": -1}), Case(((),), {"dim": 0})),
           attrs=(Attr("dim", "int", 0),), doc="insert a dim of size 1 at dim"),
    OpSpec("squeeze", _x(), squeeze, _squeeze_name,
           (Case(((2, 1, 3),), {"dim": 1}), Case(((1, 3, 1),), {"dim": None}), Case(((2, 1),), {"dim": -1}),
            Case(((2, 3),), {"dim": 0})),
           attrs=(Attr("dim", "opt_int"),), doc="drop dim if its size is 1 (all size-1 dims if dim is None)"),
    OpSpec("expand", _x(), expand, "ExpandBackward0",
           (Case(((3, 1),), {"size": (3, 4)}), Case(((1, 3),), {"size": (2, -1, 3)}), Case(((),), {"size": (5,)})),
           attrs=(Attr("size", "shape", ()),), doc="broadcast to size (-1 keeps a dim); no copy in torch"),
    OpSpec("repeat", _x(), repeat, "RepeatBackward0",
           (Case(((2, 3),), {"repeats": (2, 1)}), Case(((3,),), {"repeats": (2, 3)})),
           attrs=(Attr("repeats", "shape", ()),), doc="tile the tensor repeats times along each dim"),
    OpSpec("flip", _x(), flip, "FlipBackward0",
           (Case(((2, 3),), {"dims": (1,)}), Case(((2, 3, 5),), {"dims": (0, -1)})),
           attrs=(Attr("dims", "shape", ()),), doc="reverse the order of elements along dims"),
    OpSpec("gather", _xi(), gather, "GatherBackward0",
           (Case(((3, 5), (3, 4)), {"dim": 1}), Case(((3, 5), (2, 5)), {"dim": -2}),
            Case(((2, 3, 4), (2, 3, 7)), {"dim": 2})),
           attrs=(Attr("dim", "int", 0),), kink="repeated indices add their gradients",
           doc="out[i][j] = input[i][index[i][j]] along dim"),
    OpSpec("index_select", _xi(), index_select, "IndexSelectBackward0",
           (Case(((5, 3), (7,)), {"dim": 0}), Case(((2, 5), (3,)), {"dim": -1})),
           attrs=(Attr("dim", "int", 0),), doc="the slices of input at the 1-D index along dim"),
    OpSpec("index", _xi(), index, "IndexBackward0",
           (Case(((5, 3), (2, 4))), Case(((6,), (9,)))),
           doc="input[index] with an integer tensor: rows of input picked along dim 0"),
)
