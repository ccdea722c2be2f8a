"""``crossgrad.check`` and ``crossgrad.gradcheck``: the user-facing forms of a check.

``check(loss)`` checks an engine tensor's graph; ``check(fn, *inputs)`` calls ``fn`` first (the
function form). ``gradcheck(fn, inputs)`` has ``torch.autograd.gradcheck``'s call shape: every
output element's gradient is checked (a full Jacobian, one check per output element, for at
most ``FULL_JACOBIAN_MAX`` output elements; else ``DIRECTIONS`` seeded random +-1 directions
per output), returns True, or raises :class:`GradcheckError` with the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from crossgrad.engine.errors import GradientMismatch
from crossgrad.engine.numeric.tensor import Tensor

from .claimed_keys import claimed_by_name, export_ids, with_claimed_tensors
from .gradcheck_guards import detached_message, moving_input, require_some_grad

FULL_JACOBIAN_MAX = 32
DIRECTIONS = 3
PASSING = ("agree", "convention")
# gradcheck answers torch's question (analytical within tolerance of numerical): a gradient at
# the rounding-noise level of its computation (unresolved) passes there, as it does in torch.
GRADCHECK_PASSING = PASSING + ("unresolved",)


class GradcheckError(GradientMismatch, RuntimeError):
    """gradcheck found a disagreement; the message is the agreement report.

    A RuntimeError like torch's GradcheckError, and a GradientMismatch (an AssertionError) so
    pytest shows it as a failed assertion.
    """

    def __init__(self, message: str, report: Any) -> None:
        Exception.__init__(self, message)
        self.report = report


def _refuse_foreign(value: Any, what: str) -> None:
    """A torch/JAX/numpy value where an engine tensor is needed: say what to do instead."""
    if isinstance(value, Tensor):
        return
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if kind.startswith("torch."):
        fix = ("use crossgrad.torch.gradcheck(fn, inputs) or crossgrad.torch.from_torch(fn, inputs) for "
               "PyTorch code, or build the computation with crossgrad tensors (import crossgrad as torch)")
    elif kind.startswith(("jax", "numpy.")):
        fix = "wrap the values with crossgrad.tensor(values, requires_grad=True) and compute with crossgrad ops"
    else:
        fix = "pass a crossgrad Tensor computed from leaves with requires_grad=True"
    raise TypeError(f"{what} is a {kind}, not a crossgrad Tensor: {fix}")


def check(loss: Any, *inputs: Any, gradient: Any = None, names: Mapping[str, Any] | None = None,
          **options: Any) -> Any:
    """Cross-check ``loss`` (a tensor), or ``loss(*inputs)`` when ``loss`` is a function.

    For a tensor, positional arguments after it are ``gradient`` and ``names`` (the form
    ``check(loss, gradient, names)`` of earlier releases).
    """
    from crossgrad.engine.check import CheckRequest
    from crossgrad.engine.check import check as run
    from crossgrad.engine.numeric.export import to_graph

    if callable(loss) and not isinstance(loss, Tensor):
        for i, value in enumerate(inputs):
            _refuse_foreign(value, f"input {i}")
        names = dict(names or {}) | {f"input{i}": t for i, t in enumerate(inputs)
                                     if t.requires_grad and all(t is not v for v in (names or {}).values())}
        loss = loss(*inputs)
    elif inputs:
        gradient, names = (inputs + (names,))[:2] if gradient is None else (gradient, names)
    _refuse_foreign(loss, "the value to check")
    claimed = options.pop("claimed", None) or {}
    for key, value in (names or {}).items():
        _refuse_foreign(value, f"names[{key!r}]")
    names = with_claimed_tensors(names, claimed)
    graph, leaves = to_graph(loss, export_ids(names))
    seed = None if gradient is None else np.asarray(getattr(gradient, "_data", gradient))
    grad_leaves = {n: t for n, t in leaves.items() if t.requires_grad}
    by_name = claimed_by_name(claimed, names, grad_leaves, graph)
    report = run(CheckRequest(graph, seed, claimed=by_name, **options))
    report.tensor_names = {id(t): n for n, t in leaves.items()}
    return report


def assert_gradients(loss: Any, *inputs: Any, **options: Any) -> Any:
    """``check(...)`` that raises :class:`GradientMismatch` (an AssertionError, the report as its
    message) unless the verdict is agree or convention; for tests. Returns the report."""
    return check(loss, *inputs, **options).raise_for_mismatch()


def _seeds(shape: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """One-hot seeds (a full Jacobian) for small outputs, else seeded random +-1 directions."""
    size = int(np.prod(shape, dtype=np.int64))
    if size <= FULL_JACOBIAN_MAX:
        return [np.eye(size)[k].reshape(shape) for k in range(size)]
    return [rng.choice((-1.0, 1.0), size=shape) for _ in range(DIRECTIONS)]


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float | None = None, atol: float | None = None,
              rtol: float | None = None, raise_exception: bool = True, seed: int = 0, **ignored: Any) -> bool:
    """``torch.autograd.gradcheck``'s call shape on crossgrad tensors, judged three ways.

    ``atol``/``rtol`` override crossgrad's dtype-aware tolerance; ``eps`` and torch-only keywords
    (``nondet_tol``, ``check_undefined_grad``, ``fast_mode``, ...) are accepted and ignored: the
    finite-difference step is crossgrad's own.
    """
    from crossgrad.engine.tolerance import Tolerance

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, value in enumerate(inputs):
        _refuse_foreign(value, f"input {i}")
    require_some_grad(inputs)
    names = {f"input{i}": t for i, t in enumerate(inputs) if t.requires_grad}
    options: dict[str, Any] = {}
    if atol is not None or rtol is not None:
        options["tolerance"] = Tolerance(rtol if rtol is not None else 1e-3, atol if atol is not None else 1e-5)
    outputs = func(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    rng = np.random.default_rng(seed)
    for index, output in enumerate(outputs):
        _refuse_foreign(output, f"output {index}")
    if not any(o.requires_grad for o in outputs):
        return _detached(func, inputs, raise_exception)
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            continue
        for direction in _seeds(tuple(output.shape), rng):
            report = check(output, gradient=direction.astype(output._data.dtype), names=names, **options)
            if report.verdict not in GRADCHECK_PASSING:
                if raise_exception:
                    raise GradcheckError(f"gradcheck: output {index}, direction (d output) "
                                         f"{np.round(direction, 3).tolist()}:\n{report}", report)
                return False
    return True


def _detached(func: Callable[..., Any], inputs: tuple, raise_exception: bool) -> bool:
    """No output requires grad: torch's verdict, the function's numerical gradient must be zero."""
    moving = moving_input(func, inputs, {i: f"input{i}" for i, t in enumerate(inputs) if t.requires_grad})
    if moving is not None and raise_exception:
        raise GradcheckError(detached_message(moving), None)
    return moving is None


__all__ = ["GradcheckError", "assert_gradients", "check", "gradcheck"]
