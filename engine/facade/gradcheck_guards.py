"""``crossgrad.gradcheck``'s refusals of a vacuous check, as ``torch.autograd.gradcheck`` has them.

No input requiring grad: nothing to check, a ValueError (torch's message). No output requiring
grad (detached, computed under ``no_grad``): autograd's gradient is zero, so the function's
numerical gradient must be zero too; an output that moves with an input fails the check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from crossgrad.engine.numeric.tensor import Tensor

NOTHING_REQUIRES_GRAD = ("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
STEP = 1e-6  # torch's gradcheck eps


def require_some_grad(inputs: Sequence[Any]) -> None:
    """torch's ValueError when no input requires grad (gradcheck would check nothing)."""
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError(NOTHING_REQUIRES_GRAD)


def _floats(outputs: Sequence[Any]) -> list[np.ndarray]:
    return [np.array(o._data) for o in outputs if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def moving_input(func: Callable[..., Any], inputs: Sequence[Any], names: dict[int, str]) -> str | None:
    """The name of the first input requiring grad along which some floating-point output changes
    (central differences along a seeded random direction), else None."""
    from crossgrad.engine.numeric.autograd import no_grad

    for position, name in names.items():
        x = inputs[position]
        direction = np.random.default_rng(0).standard_normal(x.shape)
        step = STEP * max(1.0, float(np.abs(x._data).max(initial=0.0)))
        sides = []
        for sign in (1.0, -1.0):
            moved = list(inputs)
            moved[position] = Tensor((x._data + sign * step * direction).astype(x._data.dtype))
            with no_grad():
                out = func(*moved)
            sides.append(_floats(out if isinstance(out, (tuple, list)) else (out,)))
        if any(not np.array_equal(a, b) for a, b in zip(*sides)):
            return name
    return None


def detached_message(name: str) -> str:
    return (f"gradcheck: input {name!r}: no output of the function requires grad (detached, or computed "
            "under no_grad), so autograd's gradient is zero, but the outputs change with this input: its "
            "numerical gradient is not zero (torch.autograd.gradcheck fails too)")
