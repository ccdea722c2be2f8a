"""``crossgrad.autograd.functional``: vjp, jvp, jacobian, hessian, hvp, vhp as torch's.

The same steps as torch.autograd.functional (argument checks, strict mode, create_graph, which
results are tuples), all in reverse mode on the engine's own graph: jvp and hvp by torch's
double-backward trick (a VJP is linear in its cotangent u, so differentiating by u gives J v).
``vectorize`` and forward-mode strategies give the same numbers by the same reverse passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .ad_functional_tools import (
    as_tuple,
    autograd_grad,
    check_forward_mode,
    check_requires_grad,
    check_strategy,
    fill_in_zeros,
    postprocess,
    preprocess,
    untuple,
    validate_v,
)
from .autograd import enable_grad, is_grad_enabled, set_grad_enabled
from .creation import zeros_like
from .shape_api import stack
from .tensor import Tensor

_OUTPUTS = "outputs of the user-provided function"


def _vectors(v: Any, like: tuple, like_tuple: bool, create_graph: bool, fn: str, none_msg: str) -> Any:
    """v checked against ``like`` (None only for one single-element tensor)."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(none_msg)
        return None
    _, vs = as_tuple(v, "v", fn)
    vs = preprocess(vs, create_graph, need_graph=False)
    validate_v(vs, like, like_tuple)
    return vs


_V_INPUT = ("The vector v can only be None if the input to the user-provided function is a single "
            "Tensor with a single element.")


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J)."""
    with enable_grad():
        tin, ins = as_tuple(inputs, "inputs", "vjp")
        ins = preprocess(ins, create_graph, need_graph=True)
        tout, outs = as_tuple(func(*ins), _OUTPUTS, "vjp")
        check_requires_grad(outs, "outputs", strict)
        vs = _vectors(v, outs, tout, create_graph, "vjp", "The vector v can only be None if the "
                      "user-provided function returns a single Tensor with a single element.")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = fill_in_zeros(autograd_grad(outs, ins, vs, create_graph), ins, strict, create_graph, "back")
    return untuple(postprocess(outs, create_graph), tout), untuple(postprocess(res, create_graph), tin)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v), by the double-backward trick."""
    with enable_grad():
        tin, ins = as_tuple(inputs, "inputs", "jvp")
        ins = preprocess(ins, create_graph, need_graph=True)
        vs = _vectors(v, ins, tin, create_graph, "jvp", _V_INPUT)
        tout, outs = as_tuple(func(*ins), _OUTPUTS, "jvp")
        check_requires_grad(outs, "outputs", strict)
        us = tuple(zeros_like(o, requires_grad=True) for o in outs)
        grad_inputs = autograd_grad(outs, ins, us, create_graph=True)
        check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = fill_in_zeros(autograd_grad(grad_inputs, us, vs, create_graph), outs, strict, create_graph,
                            "back_trick")
    return untuple(postprocess(outs, create_graph), tout), untuple(postprocess(res, create_graph), tout)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d out / d in, shaped out.shape + in.shape (nested tuples for tuple outputs/inputs)."""
    check_strategy(strategy, create_graph)
    if strategy == "forward-mode":
        check_forward_mode(strict, vectorize)
    with enable_grad():
        tin, ins = as_tuple(inputs, "inputs", "jacobian")
        ins = preprocess(ins, create_graph, need_graph=True)
        tout, outs = as_tuple(func(*ins), _OUTPUTS, "jacobian")
        check_requires_grad(outs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` "
                               "are not supported together. Please either set `strict=False` or "
                               "`vectorize=False`.")
        jac = tuple(_rows(i, o, ins, create_graph, strict) for i, o in enumerate(outs))
        return untuple(postprocess(jac, create_graph), (tout, tin))


def _rows(i: int, out: Tensor, ins: tuple, create_graph: bool, strict: bool) -> tuple:
    """The Jacobian blocks of output ``i``: one backward per output element, stacked."""
    rows: tuple[list, ...] = tuple([] for _ in ins)
    flat = out.reshape(-1)
    for j in range(out.numel()):
        vj = autograd_grad((flat[j],), ins, retain_graph=True, create_graph=create_graph)
        for k, (row, g, t) in enumerate(zip(rows, vj, ins)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of "
                                       f"input {k}. This is not allowed in strict mode.")
                g = zeros_like(t)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                   f"{i}. This is not allowed in strict mode when create_graph=True.")
            row.append(g)
    return tuple(stack(row, dim=0).view(tuple(out.shape) + tuple(t.shape)) if row
                 else zeros_like(t).reshape(tuple(out.shape) + tuple(t.shape)) for row, t in zip(rows, ins))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: the jacobian of its jacobian."""
    tin, ins = as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*xs: Tensor) -> Tensor:
        out = func(*xs)
        tout, outs = as_tuple(out, _OUTPUTS, "hessian")
        check_requires_grad(outs, "outputs", strict)
        _single(tout, out, "hessian")
        return out.squeeze()

    def jac_func(*xs: Tensor) -> Any:
        jac = jacobian(single_output, xs, create_graph=True)
        check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, ins, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return untuple(res, (tin, tin))


def _single(was_tuple: bool, out: Any, fn: str) -> None:
    if was_tuple or not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element")


def _first_pass(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                fn: str) -> tuple:
    """vhp's and hvp's common start: (inputs tuple?, inputs, v, outputs tuple?, outputs, jacobian)."""
    tin, ins = as_tuple(inputs, "inputs", fn)
    ins = preprocess(ins, create_graph, need_graph=True)
    vs = _vectors(v, ins, tin, create_graph, fn, _V_INPUT)
    out = func(*ins)
    tout, outs = as_tuple(out, _OUTPUTS, fn)
    check_requires_grad(outs, "outputs", strict)
    _single(tout, outs[0], fn)
    jac = autograd_grad(outs, ins, create_graph=True)
    check_requires_grad(jac, "jacobian", strict)
    return tin, ins, vs, tout, outs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H)."""
    with enable_grad():
        tin, ins, vs, tout, outs, jac = _first_pass(func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = fill_in_zeros(autograd_grad(jac, ins, vs, create_graph), ins, strict, create_graph,
                            "double_back")
    return untuple(postprocess(outs, create_graph), tout), untuple(postprocess(res, create_graph), tin)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v), by the double-backward trick through the vhp."""
    with enable_grad():
        tin, ins, vs, tout, outs, jac = _first_pass(func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(zeros_like(t, requires_grad=True) for t in ins)
        double_back = autograd_grad(jac, ins, grad_jac, create_graph=True)
        check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = fill_in_zeros(autograd_grad(double_back, grad_jac, vs, create_graph), ins, strict,
                            create_graph, "double_back_trick")
    return untuple(postprocess(outs, create_graph), tout), untuple(postprocess(res, create_graph), tin)
