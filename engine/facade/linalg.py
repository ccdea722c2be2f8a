"""``crossgrad.linalg``: the vector norms of ``torch.linalg`` (the catalogue's norm op, p = 1 or 2)."""

from typing import Any

from crossgrad.engine.numeric.functional_reductions import norm as _norm


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


__all__ = ["norm", "vector_norm"]
