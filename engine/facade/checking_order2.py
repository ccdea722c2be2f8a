"""``crossgrad.gradgradcheck``: ``torch.autograd.gradgradcheck``'s call shape on crossgrad tensors.

torch's gradgradcheck checks the gradient of the VJP ``v -> J(x)^T v`` with respect to both the
inputs and the cotangents ``grad_outputs``. That is the Hessian of ``L = sum_k <out_k, v_k>``
over (inputs, grad_outputs), so this builds L with the cotangents as leaves that require grad and
runs ``check(L, order=2)``: the engine's double backward against SymPy's second derivatives and
finite differences of the gradient (the full Hessian for small graphs, else seeded directions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from crossgrad.checking import GRADCHECK_PASSING, GradcheckError, _refuse_foreign, check
from crossgrad.engine.numeric.tensor import Tensor


def _cotangents(outputs: tuple, grad_outputs: Any, seed: int) -> list[Tensor]:
    """One cotangent leaf per output that requires grad: the given ones, else seeded normals
    (torch draws random ones too)."""
    live = [o for o in outputs if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        given = [rng.standard_normal(tuple(o.shape)).astype(o._data.dtype) for o in live]
    else:
        given = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else [grad_outputs]
        if len(given) != len(live):
            raise ValueError(f"gradgradcheck: {len(given)} grad_outputs for {len(live)} outputs that require grad")
    out = []
    for k, (o, v) in enumerate(zip(live, given)):
        data = np.asarray(getattr(v, "_data", v), dtype=o._data.dtype)
        if data.shape != tuple(o.shape):
            raise ValueError(f"gradgradcheck: grad_outputs[{k}] has shape {list(data.shape)}, "
                             f"output {k} has shape {list(o.shape)}")
        out.append(Tensor(data.copy(), requires_grad=True))
    return out


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *, eps: float | None = None,
                  atol: float | None = None, rtol: float | None = None, raise_exception: bool = True,
                  seed: int = 0, **ignored: Any) -> bool:
    """True when the second derivatives of ``func`` at ``inputs`` agree three ways; else raises
    :class:`GradcheckError` with the order-2 report (or returns False). ``eps`` and torch-only
    keywords are accepted and ignored: the finite-difference step is crossgrad's own."""
    from crossgrad.engine.tolerance import Tolerance

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, value in enumerate(inputs):
        _refuse_foreign(value, f"input {i}")
    result = func(*inputs)
    outputs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    for index, output in enumerate(outputs):
        _refuse_foreign(output, f"output {index}")
    vs = _cotangents(outputs, grad_outputs, seed)
    if not vs:
        return True  # nothing depends on an input that requires grad: torch checks nothing either
    total = sum((o * v).sum() for o, v in zip((o for o in outputs if o.requires_grad), vs))
    names = {f"input{i}": t for i, t in enumerate(inputs) if t.requires_grad}
    names |= {f"grad_output{k}": v for k, v in enumerate(vs)}
    options: dict[str, Any] = {"order": 2, "fd_seed": seed}
    if atol is not None or rtol is not None:
        options["tolerance"] = Tolerance(rtol if rtol is not None else 1e-3, atol if atol is not None else 1e-5)
    report = check(total, names=names, **options)
    if report.verdict in GRADCHECK_PASSING:
        return True
    if raise_exception:
        raise GradcheckError(f"gradgradcheck: second derivatives of <outputs, grad_outputs>:\n{report}", report)
    return False


__all__ = ["gradgradcheck"]
