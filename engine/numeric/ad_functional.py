"""``crossgrad.autograd.functional``: vjp, jvp, jacobian, hessian, hvp as in torch.

All of them are reverse mode on the engine's own graph; ``jvp`` uses the double-backward trick
(the VJP is linear in its cotangent ``u``, so differentiating ``<vjp(u), v>``... by ``u`` gives
J v). Single-Tensor arguments give single-Tensor results, tuples give tuples, as in torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .grad_api import grad
from .tensor import Tensor


def _as_tuple(x: Any) -> tuple[bool, tuple]:
    return (True, tuple(x)) if isinstance(x, (tuple, list)) else (False, (x,))


def _outputs(out: Any, fn: str) -> tuple[bool, tuple]:
    """The user function's outputs, as _as_tuple; anything but Tensors is torch's TypeError."""
    was_tuple, outs = _as_tuple(out)
    if not all(isinstance(o, Tensor) for o in outs):
        kind = type(out).__name__ if not was_tuple else f"tuple of {[type(o).__name__ for o in outs]}"
        raise TypeError(f"The outputs of the user-provided function given to {fn} must be either a Tensor "
                        f"or a tuple of Tensors but the given outputs of the user-provided function has type {kind}.")
    return was_tuple, outs


def _untuple(was_tuple: bool, xs: tuple) -> Any:
    return xs if was_tuple else xs[0]


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs the function is differentiated at: fresh leaves, or (create_graph) a recorded
    identity of an input that requires grad, so results stay differentiable by it."""
    out = []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"The inputs given to the function must be Tensors, got {type(t).__name__}")
        out.append(t * 1 if create_graph and t.requires_grad
                   else Tensor(t.detach()._data.copy(), requires_grad=True))
    return tuple(out)


def _grads(outputs: tuple, inputs: tuple, seeds: Any, create_graph: bool, strict: bool) -> tuple:
    """Gradients of outputs (seeded) by inputs, zeros (torch's non-strict mode) where unused."""
    live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if not live:
        found: tuple = (None,) * len(inputs)
    else:
        found = grad([o for o, _ in live], list(inputs), [s for _, s in live],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    result = []
    for i, (g, t) in enumerate(zip(found, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = Tensor._make(np.zeros_like(t._data))
        result.append(g if create_graph else g.detach())
    return tuple(result)


def _check_v(v: Any, like: tuple, what: str) -> tuple:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} is a single "
                               "Tensor with a single element.")
        return (Tensor._make(np.ones_like(like[0]._data)),)
    _, vs = _as_tuple(v)
    if len(vs) != len(like):
        raise RuntimeError(f"v has {len(vs)} Tensors but the {what} has {len(like)}")
    for a, b in zip(vs, like):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v has shape {list(a.shape)} and the {what} "
                               f"has shape {list(b.shape)}")
    return vs


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J)."""
    tin, ins = _as_tuple(inputs)
    ins = _prepare(ins, create_graph)
    tout, outs = _outputs(func(*ins), "vjp")
    vs = _check_v(v, outs, "output of the user-provided function")
    gs = _grads(outs, ins, vs, create_graph, strict)
    return _untuple(tout, _final(outs, create_graph)), _untuple(tin, gs)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v), by double backward through a dummy cotangent."""
    tin, ins = _as_tuple(inputs)
    ins = _prepare(ins, create_graph)
    vs = _check_v(v, ins, "input")
    tout, outs = _outputs(func(*ins), "jvp")
    us = tuple(Tensor(np.zeros_like(o._data), requires_grad=True) for o in outs)
    gs = _grads(outs, ins, us, True, strict)
    total = sum((g * w).sum() for g, w in zip(gs, vs) if g.requires_grad)
    jv = _grads((total,) if isinstance(total, Tensor) else (), us, (None,), create_graph, strict)
    return _untuple(tout, _final(outs, create_graph)), _untuple(tout, jv)


def _final(outs: tuple, create_graph: bool) -> tuple:
    return outs if create_graph else tuple(o.detach() for o in outs)


def _stack(rows: list[Tensor], shape: tuple) -> Tensor:
    """Rows (one per output element) as one tensor of ``shape`` + row shape, recorded when
    a row has history: sum_k e_k (x) row_k."""
    n = len(rows)
    if not any(r.requires_grad for r in rows):
        data = np.stack([r._data for r in rows]) if rows else np.zeros((0,))
        return Tensor._make(data.reshape(shape + tuple(rows[0].shape) if rows else shape))
    total: Any = 0
    for k, r in enumerate(rows):
        e = np.zeros((n,) + (1,) * r.ndim, dtype=r._data.dtype)
        e[k] = 1
        total = total + r.reshape((1,) + tuple(r.shape)) * Tensor._make(e)
    return total.reshape(shape + tuple(rows[0].shape))


def _check_strategy(strategy: str, create_graph: bool, strict: bool, vectorize: bool) -> None:
    """torch's checks of ``strategy``; forward-mode's Jacobian has the same numbers, so crossgrad
    computes it in reverse mode once torch would accept the call."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "reverse-mode":
        if strict and vectorize:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                               "not supported together. Please either set `strict=False` or `vectorize=False`.")
        return
    if create_graph:
        raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                  '`strategy="forward-mode"` are not supported together (yet).')
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                           '`strategy="forward-mode"` are not supported together (yet).')
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian is only implemented for `vectorize=True`.")


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d out / d in, shaped out.shape + in.shape (nested tuples for tuple outputs/inputs)."""
    _check_strategy(strategy, create_graph, strict, vectorize)
    tin, ins = _as_tuple(inputs)
    ins = _prepare(ins, create_graph)
    tout, outs = _outputs(func(*ins), "jacobian")
    per_out = []
    for o in outs:
        rows: list[list[Tensor]] = [[] for _ in ins]
        for k in range(o.numel()):
            seed = np.zeros(o._data.size, dtype=o._data.dtype)
            seed[k] = 1
            seeds = tuple(Tensor._make(seed.reshape(o._data.shape)) if p is o
                          else Tensor._make(np.zeros_like(p._data)) for p in outs)
            for row, g in zip(rows, _grads(outs, ins, seeds, create_graph, strict)):
                row.append(g)
        per_out.append(tuple(_stack(r, tuple(o.shape)) if r else
                             Tensor._make(np.zeros(tuple(o.shape) + tuple(t.shape)))
                             for r, t in zip(rows, ins)))
    return _untuple(tout, tuple(_untuple(tin, p) for p in per_out))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: the jacobian of its gradient."""
    _check_strategy(outer_jacobian_strategy, create_graph, strict, vectorize)
    tin, ins = _as_tuple(inputs)

    def gradient(*xs: Tensor) -> tuple:
        out = func(*xs)
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return _grads((out.reshape(()),), xs, (None,), True, strict)

    jac = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    return jac if tin else jac[0][0]


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H): a Hessian-vector product by double backward."""
    tin, ins = _as_tuple(inputs)
    ins = _prepare(ins, create_graph)
    vs = _check_v(v, ins, "input")
    out = func(*ins)
    if out.numel() != 1:
        raise RuntimeError("The function given to hvp should return a single element Tensor")
    gs = _grads((out.reshape(()),), ins, (None,), True, strict)
    total = sum((g * w).sum() for g, w in zip(gs, vs) if g.requires_grad)
    if isinstance(total, Tensor):
        hv = _grads((total,), ins, (None,), create_graph, strict)
    else:
        hv = tuple(Tensor._make(np.zeros_like(t._data)) for t in ins)
    return (out if create_graph else out.detach()), _untuple(tin, hv)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H): equal to hvp's H v, the Hessian of a twice-differentiable
    function being symmetric (torch computes it by one backward less; the values agree)."""
    return hvp(func, inputs, v, create_graph, strict)
