"""The argument handling of ``crossgrad.autograd.functional``, as torch.autograd.functional's.

Each helper mirrors one of torch's (same names without the module, same checks, same
messages), so a call torch refuses is refused here with torch's error and a call it accepts
returns the same structure: which inputs are tuples, zeros for unused inputs, strict mode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grad_api import grad
from .tensor import Tensor


def as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(was it a tuple, the tuple of Tensors); only a tuple counts (a list is a bad value)."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the {where} has type {type(el)}.")
    return is_tuple, tuple(items)


def untuple(res: Any, to_unpack: Any) -> Any:
    """Undo as_tuple: one bool, or (outputs were a tuple, inputs were a tuple)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
        return res
    return res if to_unpack else res[0]


def preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New tensor objects: a recorded view of an input that requires grad (create_graph), else
    a detached copy that requires grad when the graph is needed."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(need_graph) for t in inputs)


def postprocess(inputs: tuple, create_graph: bool) -> tuple:
    """Results without history unless create_graph (nested tuples too)."""
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(t.detach() for t in inputs)
    return tuple(postprocess(t, create_graph) for t in inputs)


def validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {_size(b)} but got {_size(a)}.")


def _size(t: Tensor) -> str:
    return f"torch.Size({list(t.shape)})"


_INDEPENDENT = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent "
               "of the input. This is not allowed in strict mode. You should ensure that your function "
               "is thrice differentiable and that the hessian depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function "
                "with respect to input {i} is independent of the input. This is not allowed in strict "
                "mode. You should ensure that your function is twice differentiable and that the "
                "jacobian depends on the inputs (this would be violated by a linear function for "
                "example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
               "must be computed in a differentiable manner from the input when running in strict mode.",
}


def check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    """strict mode: every tensor must depend on the inputs (None: an unused input)."""
    if not strict:
        return
    for i, t in enumerate(inputs):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_INDEPENDENT[input_type].format(i=i))


def autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: Any = None, create_graph: bool = False,
                  retain_graph: bool | None = None) -> tuple:
    """autograd.grad over the outputs that require grad (None for every input when none does)."""
    seeds = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    live = [(o, s) for o, s in zip(outputs, seeds) if o is not None and o.requires_grad]
    if not live:
        return (None,) * len(inputs)
    return grad([o for o, _ in live], list(inputs), [s for _, s in live], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_STAGE_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is "
                   "not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in "
                         "the grad_jacobian. This is not allowed in strict mode as it prevents from "
                         "using the double backward trick to replace forward mode AD.",
}


def fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """None (an unused input) as zeros shaped like ``refs``, or strict mode's error."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STAGE_NONE[stage].format(i=i))
            g = Tensor._make(np.zeros_like(refs[i]._data))
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def check_strategy(strategy: str, create_graph: bool) -> None:
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If '
                             'your function has more outputs than inputs, "forward-mode" tends to be more '
                             'performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode" and create_graph:
        raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                  '`strategy="forward-mode"` are not supported together (yet). Please '
                                  'either set `create_graph=False` or `strategy="reverse-mode"`.')


def check_forward_mode(strict: bool, vectorize: bool) -> None:
    """torch's refusals of forward mode; an accepted call is computed in reverse mode (the same
    numbers: the engine has no forward AD)."""
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                           '`strategy="forward-mode"` are not supported together (yet). Please either '
                           'set `strict=False` or `strategy="reverse-mode"`.')
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian "
                                  "isonly implemented for `vectorize=True`.")
