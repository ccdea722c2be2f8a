"""ATen ops -> chains of catalogue ops, fourth table (tried first; same rule shape, see aten.py):
cdist, out-of-place index_put (index_fill, index_add, index_copy and masked writes of
a copy decompose into it), and in-place writes into intermediates that no other tensor sees.

- ``cdist(x1, x2, p)`` for p = 1 and 2: the p-norm over the last dim of the broadcast differences
  ``x1[.., :, None, :] - x2[.., None, :, :]``. norm's gradient at a zero difference is torch's
  (0 for p = 2, sign(0) = 0 for p = 1).
- ``index_put(x, indices, values, accumulate)`` with indices known at capture: torch itself says
  which flat elements are written (as for advanced-index reads, aten_more.py); the values are
  added there by the catalogue's scatter_add into the flattened input, after those elements are
  zeroed (masked_fill) unless ``accumulate``. A write without ``accumulate`` that repeats an
  element declines (torch leaves which write wins undefined) and is refused by name.
- In-place writes (``z[mask] = v``, ``index_put_``, ``add_``, ``mul_``, ``masked_fill_``, and the
  ``copy_`` a decomposed in-place op ends with): make_fx hands later readers the write's result,
  so the out-of-place value is the write's — when the tensor written is no view, has no view and
  is not read afterwards (else another tensor would see the write: declined, refused by name).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import torch

from .aten import Emit, Rule, _alpha, _binary, arg
from .aten_extra import _masked_fill
from .aten_more import FLOATS, _positions


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


def _aliases(node: Any) -> bool:
    """Whether an FX node's value may share memory with another tensor: the user's own tensors
    (inputs, parameters), and outputs whose op schema says they alias an input (views, in-place).
    A piece of ``unsafe_chunk`` / ``unsafe_split`` (what nn.GRUCell and nn.LSTMCell write into) is
    private when the tensor split is: the pieces are disjoint and nothing else reads the base."""
    if node.op == "call_function" and node.target is operator.getitem and _private_pieces(node.args[0]):
        return False
    schema = getattr(node.target, "_schema", None) if node.op == "call_function" else None
    return schema is None or any(r.alias_info is not None for r in schema.returns)


_UNSAFE_SPLITS = ("aten::unsafe_chunk", "aten::unsafe_split", "aten::unsafe_split_with_sizes")


def _private_pieces(node: Any) -> bool:
    """``node`` is an unsafe split of a private tensor (no alias of another, read only by the split)."""
    if node.op != "call_function" or getattr(getattr(node.target, "_schema", None), "name", None) not in _UNSAFE_SPLITS:
        return False
    base = node.args[0]
    return isinstance(base, torch.fx.Node) and set(base.users) == {node} and not _aliases(_written(base))


def _written(node: Any) -> Any:
    """The tensor a chain of in-place writes (``z.index_fill_(...).index_add_(...)``) started from."""
    while node.op == "call_function" and _writes_first(node.target):
        node = node.args[0]
    return node


def _writes_first(op: Any) -> bool:
    """An in-place op (its schema marks the first argument written: ``Tensor(a!) self``)."""
    arguments = getattr(getattr(op, "_schema", None), "arguments", None)
    info = arguments[0].alias_info if arguments else None
    return info is not None and info.is_write


def _in_place(out_of_place: Rule) -> Rule:
    """An in-place write into an intermediate tensor (``z[mask] = v``, ``index_put_``, the
    ``copy_`` that a decomposed in-place op ends with) as the out-of-place value it leaves, when
    no other tensor can see the write: the tensor written is no view, no view of it is taken, and
    nothing reads it afterwards except through the write's result. Otherwise it declines (refused
    by name): a view or the user's own tensor would change too."""
    def rule(e: Any, a: tuple, k: dict) -> str | None:
        node = e.current
        target = node.args[0]
        if not isinstance(target, torch.fx.Node) or _aliases(_written(target)):
            return None
        later, after = set(), node.next
        while after.op != "root":
            later.add(after)
            after = after.next
        if any(u is not node and (_aliases(u) or u in later) for u in target.users):
            return None
        out = out_of_place(e, a, k)
        if out is None or e.shape(out) != e.shape(a[0]):
            return None
        if e.dtype(out) is not e.dtype(a[0]):  # an in-place op keeps the written tensor's dtype
            if e.dtype(a[0]) not in FLOATS:
                return None
            out = e.op("to_dtype", [out], dtype=np.dtype(e.dtype(a[0])).name)
        return out
    return rule


def _copy(e: Any, a: tuple, k: dict) -> str | None:
    """dst.copy_(src): src broadcast to dst's shape and cast to its (float) dtype."""
    dst, src = a[0], a[1]
    if not isinstance(src, str):
        return None
    if e.dtype(src) is not e.dtype(dst):
        if e.dtype(dst) not in FLOATS or e.dtype(src) not in FLOATS:
            return None
        src = e.op("to_dtype", [src], dtype=np.dtype(e.dtype(dst)).name)
    if e.shape(src) != e.shape(dst):
        src = e.op("expand", [src], size=tuple(e.shape(dst)))
    return src


CHAINS: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.cdist.default": (("unsqueeze", "sub", "norm"), _cdist(2)),
    "aten._cdist_forward.default": (("unsqueeze", "sub", "norm"), _cdist(2)),
    "aten._euclidean_dist.default": (("unsqueeze", "sub", "norm"), _cdist(None)),
    "aten.index_put.default": (("reshape", "masked_fill", "expand", "scatter_add"), _index_put),
    "aten.index_put_.default": (("reshape", "masked_fill", "expand", "scatter_add"), _in_place(_index_put)),
    "aten.copy_.default": (("expand", "to_dtype"), _in_place(_copy)),
    **{f"aten.{name}_.{overload}": (("add", "sub", "mul", "div", "to_dtype"), _in_place(rule))
       for name, overload, rule in (("add", "Tensor", _alpha("add")), ("add", "Scalar", _alpha("add")),
                                    ("sub", "Tensor", _alpha("sub")), ("mul", "Tensor", _binary("mul")),
                                    ("mul", "Scalar", _binary("mul")), ("div", "Tensor", _binary("div")))},
    "aten.masked_fill_.Scalar": (("masked_fill", "to_dtype"), _in_place(_masked_fill)),
}
