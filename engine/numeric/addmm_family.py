"""torch.addmm / baddbmm / addbmm / addmv (and their Tensor methods): ``beta * input + alpha *
(product)`` composed of catalogue ops (matmul, sum, mul, add), shown under torch's single grad_fn
(AddmmBackward0, BaddbmmBackward0, AddbmmBackward0, AddmvBackward0). As torch, ``beta == 0``
ignores input's values (a nan there does not propagate) and gives it a zero gradient, and
``alpha == 1``/``beta == 1`` multiply by nothing."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor
from .tensor_math import _renamed


def _scaled(x: Tensor, factor: Any) -> Tensor:
    return x if isinstance(factor, (int, float)) and factor == 1 else x * factor


def _combine(input: Tensor, product: Tensor, beta: Any, alpha: Any, name: str) -> Tensor:
    """beta * input + alpha * product, broadcast to product's shape (input's values unused at beta = 0)."""
    target = tuple(product.shape)
    if not _broadcasts(tuple(input.shape), target):
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: target sizes "
                           f"{list(target)}, tensor sizes {list(input.shape)}")
    if isinstance(beta, (int, float)) and beta == 0:
        from .functional_elementwise import where

        never = Tensor._make(np.zeros((), bool))
        base = where(never, input, Tensor._make(np.zeros((), input._data.dtype)))
    else:
        base = _scaled(input, beta)
    return _renamed(base + _scaled(product, alpha), name)


def _broadcasts(shape: tuple, target: tuple) -> bool:
    return len(shape) <= len(target) and all(a in (1, b) for a, b in zip(shape[::-1], target[::-1]))


def _same_dtype(op: str, *xs: Tensor) -> None:
    if len({x.dtype for x in xs}) > 1:
        got = " and ".join(str(x.dtype).split(".")[-1] for x in xs)
        raise RuntimeError(f"{op}: expected self, and both factors of one dtype, but got {got}")


def _matrix(x: Tensor, name: str, ndim: int, what: str) -> None:
    if x.ndim != ndim:
        raise RuntimeError(f"{name} must be a {what}, got {x.ndim}-D tensor")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    _same_dtype("addmm", input, mat1, mat2)
    _matrix(mat1, "mat1", 2, "matrix")
    _matrix(mat2, "mat2", 2, "matrix")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _combine(input, mat1 @ mat2, beta, alpha, "AddmmBackward0")


def _batches(batch1: Tensor, batch2: Tensor) -> None:
    _matrix(batch1, "batch1", 3, "3D tensor")
    _matrix(batch2, "batch2", 3, "3D tensor")
    want = [batch1.shape[0], batch1.shape[2]]
    if list(batch2.shape[:2]) != want:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: {want} but got: "
                           f"{list(batch2.shape[:2])}.")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    _same_dtype("baddbmm", input, batch1, batch2)
    _batches(batch1, batch2)
    return _combine(input, batch1 @ batch2, beta, alpha, "BaddbmmBackward0")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    _same_dtype("addbmm", input, batch1, batch2)
    _batches(batch1, batch2)
    return _combine(input, (batch1 @ batch2).sum(0), beta, alpha, "AddbmmBackward0")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    _same_dtype("addmv", input, mat, vec)
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0] or input.ndim == 1 and input.shape[0] not in (1, mat.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else ''}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _combine(input, mat @ vec, beta, alpha, "AddmvBackward0")


FUNCTIONS = ("addmm", "baddbmm", "addbmm", "addmv")


def install() -> None:
    for name in FUNCTIONS:
        setattr(Tensor, name, globals()[name])
