"""Shape rules: output shape from input shapes and attributes, before any array exists.

Every rule has the signature ``rule(op, shapes, attrs) -> shape`` and raises
:class:`ShapeError` naming the op. They follow PyTorch's (and numpy's) conventions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import BatchSizeError, DimError, ReductionError, ShapeError, SliceStepError

Shape = tuple[int, ...]
Attrs = dict[str, Any]


def broadcast(op: str, a: Shape, b: Shape) -> Shape:
    """numpy/PyTorch broadcasting of two shapes (align right, 1 stretches)."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and 1 not in (da, db):
            dim = max(len(a), len(b)) - i
            raise ShapeError(op, f"shapes {list(a)} and {list(b)} do not broadcast: The size of tensor a ({da}) "
                                 f"must match the size of tensor b ({db}) at non-singleton dimension {dim}")
        out.append(db if da == 1 else da)
    return tuple(reversed(out))


def norm_dim(op: str, dim: int, ndim: int) -> int:
    """Wrap a possibly negative dim into range, as PyTorch does (a 0-d tensor has dim 0/-1)."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise DimError(op, f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
                           f"but got {dim})")
    return dim % size


def norm_dims(op: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """The reduced dims as sorted non-negative ints; None means all."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = sorted({norm_dim(op, d, ndim) for d in dims})
    if len(out) != len(dims):
        raise ShapeError(op, f"dim {list(dims)} repeats a dimension")
    return tuple(d for d in out if d < ndim)


def same(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    return shapes[0]


def binary(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    return broadcast(op, shapes[0], shapes[1])


def reduction(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    shape = shapes[0]
    dims = norm_dims(op, attrs.get("dim"), len(shape))
    if attrs.get("keepdim"):
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def softmax_like(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    norm_dim(op, attrs["dim"], len(shapes[0]))
    return shapes[0]


def matmul(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    """torch.matmul: 1-D operands get a dim prepended/appended, batch dims broadcast."""
    a, b = shapes
    if not a or not b:
        raise ShapeError(op, "both arguments to matmul need to be at least 1D")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        torch_words = (f"; mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and {b[0]}x{b[1]})"
                       if len(a) == len(b) == 2 else "")
        raise ShapeError(
            op, f"shapes {list(a)} and {list(b)} cannot be multiplied ({a2[-1]} != {b2[-2]}){torch_words}"
        )
    batch = broadcast(op, a2[:-2], b2[:-2])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def reshape(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    """Target shape with at most one -1, same number of elements."""
    shape, target = shapes[0], tuple(attrs["shape"])
    total = numel(shape)
    if target.count(-1) > 1 or any(s < -1 for s in target):
        raise ShapeError(op, f"invalid shape {list(target)}")
    known = numel(tuple(s for s in target if s != -1))
    if -1 in target:
        if known == 0 or total % known:
            raise ShapeError(op, f"shape '{list(target)}' is invalid for input of size {total}")
        target = tuple(total // known if s == -1 else s for s in target)
    if numel(target) != total:
        raise ShapeError(op, f"shape '{list(target)}' is invalid for input of size {total}")
    return target


def flatten(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    shape = shapes[0]
    if not shape:
        return (1,)
    start = norm_dim(op, attrs["start_dim"], len(shape))
    end = norm_dim(op, attrs["end_dim"], len(shape))
    if start > end:
        raise ShapeError(op, "flatten() has invalid args: start_dim cannot come after end_dim")
    return shape[:start] + (numel(shape[start : end + 1]),) + shape[end + 1 :]


def transpose(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    shape = list(shapes[0])
    d0 = norm_dim(op, attrs["dim0"], len(shape))
    d1 = norm_dim(op, attrs["dim1"], len(shape))
    if shape:
        shape[d0], shape[d1] = shape[d1], shape[d0]
    return tuple(shape)


def permute(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    """A reordering of every dim exactly once (negative dims count from the end), as torch checks."""
    shape, dims = shapes[0], tuple(attrs["dims"])
    if len(dims) != len(shape):
        raise ShapeError(op, f"number of dims don't match in permute: the input has {len(shape)}, "
                             f"dims {list(dims)} has {len(dims)}")
    order = [norm_dim(op, d, len(shape)) for d in dims]
    if len(set(order)) != len(order):
        raise ShapeError(op, f"repeated dim in permute: dims {list(dims)}")
    return tuple(shape[d] for d in order)


def select(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    shape = shapes[0]
    if not shape:
        raise ShapeError(op, "invalid index of a 0-dim tensor")
    dim = norm_dim(op, attrs["dim"], len(shape))
    if not -shape[dim] <= attrs["index"] < shape[dim]:
        raise ShapeError(
            op, f"index {attrs['index']} is out of bounds for dimension {dim} with size {shape[dim]}"
        )
    return shape[:dim] + shape[dim + 1 :]


def slice_(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    shape = shapes[0]
    if not shape:
        raise ShapeError(op, "invalid index of a 0-dim tensor")
    dim = norm_dim(op, attrs["dim"], len(shape))
    if attrs["step"] <= 0:
        raise SliceStepError(op, "step must be greater than zero")
    length = len(range(*slice(attrs["start"], attrs["stop"], attrs["step"]).indices(shape[dim])))
    return shape[:dim] + (length,) + shape[dim + 1 :]


def linear(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    """input (..., in), weight (out, in), optional bias (out,) -> (..., out)."""
    x, w = shapes[0], shapes[1]
    if len(w) != 2 or not x or x[-1] != w[1]:
        torch_words = (f"; mat1 and mat2 shapes cannot be multiplied ({numel(x[:-1])}x{x[-1]} and {w[1]}x{w[0]})"
                       if len(w) == 2 and x else "")
        raise ShapeError(op, f"input {list(x)} and weight {list(w)} do not fit (..., in) @ (out, in){torch_words}")
    out = x[:-1] + (w[0],)
    if len(shapes) > 2 and shapes[2] is not None:
        broadcast(op, out, shapes[2])
    return out


def _loss_out(op: str, shape: Shape, attrs: Attrs) -> Shape:
    reduction_ = attrs["reduction"]
    if reduction_ not in ("none", "mean", "sum"):
        raise ReductionError(op, f"{reduction_!r} is not a valid value for reduction")
    return shape if reduction_ == "none" else ()


def pointwise_loss(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    """input and target of the same shape, optional extra inputs broadcast to it."""
    x, t = shapes[0], shapes[1]
    if x != t:
        raise BatchSizeError(op, f"target size {list(t)} must be the same as input size {list(x)}")  # torch: ValueError
    for extra in shapes[2:]:
        if extra is not None and broadcast(op, x, extra) != x:
            raise ShapeError(op, f"{list(extra)} does not broadcast to input size {list(x)}")
    return _loss_out(op, x, attrs)


def mse(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    return _loss_out(op, broadcast(op, shapes[0], shapes[1]), attrs)


def cross_entropy(op: str, shapes: Sequence[Any], attrs: Attrs) -> Shape:
    """input (N, C) or (C,), class-index target (N,) or (), optional weight (C,)."""
    x, t = shapes[0], shapes[1]
    if len(x) == 2 and len(t) == 1 and t[0] != x[0]:
        raise BatchSizeError(op, f"Expected input batch_size ({x[0]}) to match target batch_size ({t[0]}).")
    if len(x) > 2:
        raise ShapeError(op, f"input {list(x)}: (N, C, d1, ...) inputs are not supported; put the classes "
                             "last (permute) and flatten input and target alike")
    if len(x) not in (1, 2) or t != x[:-1]:
        raise ShapeError(op, f"input {list(x)} and class-index target {list(t)} do not fit")
    if len(shapes) > 2 and shapes[2] is not None and shapes[2] != (x[-1],):
        raise ShapeError(op, f"weight {list(shapes[2])} must have shape [{x[-1]}]")
    return _loss_out(op, t, attrs)


def numel(shape: Shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
