"""``crossgrad.linalg``: the vector norms of ``torch.linalg`` (the catalogue's norm op, p = 1 or 2),
and solve/inv for values only (a Newton step under no_grad): no catalogue op differentiates them."""

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from crossgrad.engine.numeric.autograd import is_grad_enabled
from crossgrad.engine.numeric.functional_reductions import norm as _norm
from crossgrad.engine.numeric.tensor import Tensor


def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False) -> Any:
    """torch.linalg.vector_norm for ord 1 and 2 (other orders: NotImplementedError naming them)."""
    return _norm(x, ord, dim, keepdim)


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Any:
    """torch.linalg.norm: the 2-norm of all elements (Frobenius for matrices) or a vector norm along dim."""
    if ord in (None, "fro"):
        return _norm(A, 2, dim, keepdim)
    if dim is None and A.dim() >= 2 or isinstance(dim, (tuple, list)) and len(dim) == 2:
        raise NotImplementedError(f"linalg.norm: the matrix norm ord={ord!r} is not supported "
                                  "(crossgrad has vector norms with ord 1 and 2, and 'fro')")
    return _norm(A, ord, dim, keepdim)


def _values(op: str, *ts: Any) -> list[np.ndarray]:
    """The arrays of ``ts``; refused when a gradient would be needed (nothing records these ops)."""
    if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in ts):
        raise NotImplementedError(f"linalg.{op} is not differentiable in crossgrad (no catalogue op): "
                                  "call it under torch.no_grad() or on detached tensors")
    arrays = [np.asarray(t._data if isinstance(t, Tensor) else t) for t in ts]
    if any(a.dtype.kind != "f" for a in arrays) or len({a.dtype for a in arrays}) > 1:
        raise RuntimeError(f"linalg.{op}: expected floating tensors of one dtype, got "
                           f"{[str(a.dtype) for a in arrays]}")
    if arrays[0].ndim < 2 or arrays[0].shape[-1] != arrays[0].shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{' by '.join(map(str, arrays[0].shape[-2:]))} matrices")
    return arrays


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:
    """torch.linalg.solve (values only): X with A X = B; B a (batch of) vector(s) as torch reads it."""
    a, b = _values("solve", A, B)
    if not left:
        with _singular("solve"):
            return Tensor._make(np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2))
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    with _singular("solve"):
        return Tensor._make(np.linalg.solve(a, b[..., None])[..., 0] if vector else np.linalg.solve(a, b))


def inv(A: Any) -> Tensor:
    """torch.linalg.inv (values only)."""
    with _singular("inv"):
        return Tensor._make(np.linalg.inv(_values("inv", A)[0]))


@contextlib.contextmanager
def _singular(op: str) -> Iterator[None]:
    """numpy's LinAlgError as torch's (a RuntimeError)."""
    try:
        yield
    except np.linalg.LinAlgError as err:
        raise RuntimeError(f"torch.linalg.{op}: The solver failed because the input matrix is singular. "
                           f"({err})") from None


__all__ = ["inv", "norm", "solve", "vector_norm"]
