"""ATen ops -> catalogue ops, third table: dtype conversions, advanced indexing, group norm and
circular padding (tried before aten_extra.py's; same rule shape, see aten.py).

Advanced indexing (``logits[torch.arange(n), y]``, ``x[mask]``, ``x[:, [1, 3]]``): the index
values are known at capture time, so torch itself indexes ``arange(x.numel())`` with them; the
positions it returns (int64, the output's shape) pick from the flattened input through the
catalogue's ``index`` op, whose gradient adds repeated positions up as torch's does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .aten import Emit, Rule, arg
from .aten_extra import _index, _pad, _sdpa

FLOATS = (np.float32, np.float64)


def _cast(e: Any, a: tuple, k: dict) -> str | None:
    """x.float(), x.double(), x.to(dtype / other / device, dtype), type_as: the catalogue's
    to_dtype between float32 and float64 (other targets decline and are refused by name)."""
    x, target, source = a[0], e.out_dtype(), e.dtype(a[0])
    if target not in FLOATS:
        return None
    if source not in FLOATS:  # an int / bool leaf (y.float()): a float copy of its values
        value = e.value(x)
        return None if value is None else e.leaf(f"{x}_{np.dtype(target).name}", value.astype(target), False)
    if source is target:
        return x
    return e.op("to_dtype", [x], dtype=np.dtype(target).name)


def _positions(shape: tuple[int, ...], indices: list[Any]) -> np.ndarray:
    """Which flat elements of a tensor of ``shape`` torch's ``x[indices]`` reads, in the output's shape."""
    flat = torch.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    found = torch.ops.aten.index.Tensor(flat, [None if i is None else torch.from_numpy(np.asarray(i))
                                              for i in indices])
    return found.numpy().astype(np.int64)


def _advanced_index(e: Any, a: tuple, k: dict) -> str | None:
    """x[i0, i1, ...] with integer or bool index tensors (None for a full slice): index op on the
    flattened input at the positions torch reads."""
    simple = _index(e, a, k)
    if simple is not None:
        return simple
    x, indices = a[0], list(a[1])
    values = [None if i is None else e.value(i) for i in indices]
    if any(v is None for i, v in zip(indices, values) if i is not None):
        return None  # an index that is not known data: refused by name
    positions = _positions(e.shape(x), values)
    flat = e.op("reshape", [x], shape=(-1,))
    return e.op("index", [flat, e.leaf("positions", positions, False)])


def _picked(e: Any, x: str, positions: np.ndarray) -> str:
    """The elements of ``x`` at these flat positions (int64, the result's shape)."""
    flat = e.op("reshape", [x], shape=(-1,))
    return e.op("index", [flat, e.leaf("positions", np.ascontiguousarray(positions, np.int64), False)])


def _selection(op: Any, total: bool = False) -> Rule:
    """An op that only reads elements of its first input (diagonal, unfold, masked_select, ...),
    its other arguments known at capture: the op run on the element numbers says which it reads;
    ``total``: their sum (trace)."""
    def rule(e: Any, a: tuple, k: dict) -> str | None:
        args: list[Any] = []
        for v in a[1:]:
            known = e.value(v) if isinstance(v, str) else v
            if isinstance(v, str) and known is None:
                return None
            args.append(torch.from_numpy(np.asarray(known)) if isinstance(v, str) else v)
        numbers = torch.arange(int(np.prod(e.shape(a[0]), dtype=np.int64))).reshape(e.shape(a[0]))
        out = _picked(e, a[0], op(numbers, *args, **k).numpy())
        return e.op("sum", [out], dim=None, keepdim=False) if total else out
    return rule


def _by_indices(dim_at: int) -> Rule:
    """topk / sort / kthvalue / median(dim) values: the input's elements at the indices torch chose
    for these inputs (recorded; ties go where torch sends them); the indices output is data."""
    def rule(e: Any, a: tuple, k: dict) -> tuple[str, None]:
        shape = e.shape(a[0])
        if not shape:
            return a[0], None
        dim = int(arg(a, k, dim_at, "dim", -1)) % len(shape)
        values, indices = e.traced_value()[:2]
        if indices.dim() < len(shape):  # keepdim=False
            indices = indices.unsqueeze(dim)
        numbers = torch.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
        return _picked(e, a[0], numbers.gather(dim, indices).reshape(values.shape).numpy()), None
    return rule


def _cosine_similarity(e: Emit, a: tuple, k: dict) -> str:
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along dim: PyTorch's own formula (each
    vector normalized first, its norm clamped below at eps)."""
    dim, eps = int(arg(a, k, 2, "dim", 1)), float(arg(a, k, 3, "eps", 1e-8))
    rank = max(len(e.shape(a[0])), len(e.shape(a[1])))
    units = []
    for x in a[:2]:
        d = dim % rank - (rank - len(e.shape(x)))  # the dim in x's own (unbroadcast) shape
        norm = e.op("norm", [x], p=2.0, dim=(d,), keepdim=True)
        units.append(e.op("div", [x, e.op("clamp", [norm], min=eps, max=None)]))
    return e.op("sum", [e.op("mul", units)], dim=(dim,), keepdim=False)


def _group_norm(e: Emit, a: tuple, k: dict) -> str:
    """aten.group_norm(x, groups, weight, bias, eps): batch_norm (training statistics, no running
    ones) of the (1, N G, -1) view, then the per-channel affine (torch's composite)."""
    x, groups = a[0], int(a[1])
    weight, bias, eps = arg(a, k, 2, "weight"), arg(a, k, 3, "bias"), float(arg(a, k, 4, "eps", 1e-5))
    shape = e.shape(x)
    flat = e.op("reshape", [x], shape=(1, shape[0] * groups, -1))
    normed = e.op("batch_norm", [flat, None, None, None, None], training=True, momentum=0.1, eps=eps)
    out = e.op("reshape", [normed], shape=tuple(shape))
    per_channel = (shape[1],) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = e.op("mul", [out, e.op("reshape", [weight], shape=per_channel)])
    if bias is not None:
        out = e.op("add", [out, e.op("reshape", [bias], shape=per_channel)])
    return out


def _circular(e: Emit, a: tuple, k: dict) -> str | None:
    """F.pad(mode='circular'): along each padded dim, cat(x[-left:], x, x[:right]) (torch's
    wrap-around; pads larger than the dim, or negative, decline)."""
    if arg(a, k, 2, "mode", "constant") != "circular":
        return _pad(e, a, k)
    out, pads = a[0], [int(p) for p in a[1]]
    rank = len(e.shape(out))
    for j in range(len(pads) // 2):
        dim, left, right = rank - 1 - j, pads[2 * j], pads[2 * j + 1]
        size = e.shape(out)[dim]
        if not (0 <= left <= size and 0 <= right <= size):
            return None
        pieces = ([e.op("slice", [out], dim=dim, start=size - left, stop=size, step=1)] if left else []) + [out] + \
            ([e.op("slice", [out], dim=dim, start=0, stop=right, step=1)] if right else [])
        out = e.op("cat", pieces, dim=dim) if len(pieces) > 1 else out
    return out


def _sdpa_gqa(e: Emit, a: tuple, k: dict) -> str | None:
    """sdpa with enable_gqa: each key/value head serves Hq / Hk query heads (torch's
    repeat_interleave on dim -3), as an index_select of the heads; then the plain sdpa rule."""
    if not k.get("enable_gqa"):
        return _sdpa(e, a, k)
    q, key, v = a[0], a[1], a[2]
    heads, kv_heads, rank = e.shape(q)[-3], e.shape(key)[-3], len(e.shape(q))
    if rank < 3 or heads % kv_heads:
        return None
    picks = e.leaf("gqa_heads", np.arange(heads, dtype=np.int64) // (heads // kv_heads), False)
    key, v = (e.op("index_select", [t, picks], dim=rank - 3) for t in (key, v))
    return _sdpa(e, (q, key, v, *a[3:]), {n: val for n, val in k.items() if n != "enable_gqa"})


MORE: dict[str, tuple[tuple[str, ...], Rule]] = {
    **{f"aten.{name}": (("to_dtype",), _cast) for name in
       ("to.dtype", "to.device", "to.other", "to.dtype_layout", "to.prim_dtype", "_to_copy.default",
        "type_as.default")},
    "prims.convert_element_type.default": (("to_dtype",), _cast),
    "aten.index.Tensor": (("index", "reshape"), _advanced_index),
    "aten.masked_select.default": (("index", "reshape"), _selection(torch.ops.aten.masked_select.default)),
    "aten.diagonal.default": (("index", "reshape"), _selection(torch.ops.aten.diagonal.default)),
    "aten.unfold.default": (("index", "reshape"), _selection(torch.ops.aten.unfold.default)),
    "aten.take.default": (("index", "reshape"), _selection(torch.ops.aten.take.default)),
    "aten.trace.default": (("index", "reshape", "sum"), _selection(torch.ops.aten.diagonal.default, total=True)),
    "aten.topk.default": (("index", "reshape"), _by_indices(2)),
    "aten.sort.default": (("index", "reshape"), _by_indices(1)),
    "aten.sort.stable": (("index", "reshape"), _by_indices(99)),  # dim is keyword-only
    "aten.kthvalue.default": (("index", "reshape"), _by_indices(2)),
    "aten.median.dim": (("index", "reshape"), _by_indices(1)),
    "aten.cosine_similarity.default": (("norm", "clamp", "div", "mul", "sum"), _cosine_similarity),
    "aten.group_norm.default": (("batch_norm", "reshape", "mul", "add"), _group_norm),
    "aten.pad.default": (("pad", "slice", "cat"), _circular),
    "aten.scaled_dot_product_attention.default": (
        ("matmul", "transpose", "mul", "where", "add", "softmax", "index_select"), _sdpa_gqa),
}
