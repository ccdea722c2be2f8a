"""A function none of whose floating-point outputs requires grad (``x.detach() * 2``, a body under
``torch.no_grad()``): autograd claims a zero gradient, and so do crossgrad's witnesses, which
differentiate what autograd differentiates. torch's gradcheck then asks that the function's
numerical gradient be zero, and fails when an output moves with an input; so does this check,
naming the input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

STEP = 1e-6  # torch's gradcheck eps


def moving_input(func: Callable[..., Any], inputs: list[Any], names: dict[int, str], rng_state: torch.Tensor,
                 outputs_of: Callable[[Any], list[torch.Tensor]]) -> str | None:
    """The name of the first input requiring grad along which some output changes (central
    differences along a seeded random direction), else None."""
    for position, name in names.items():
        x = inputs[position]
        direction = torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64).to(x.dtype)
        step = STEP * max(1.0, float(x.detach().abs().max())) if x.numel() else STEP
        sides = []
        for sign in (1.0, -1.0):
            moved = list(inputs)
            moved[position] = x.detach() + sign * step * direction
            torch.set_rng_state(rng_state)
            with torch.no_grad():
                sides.append(outputs_of(func(*moved)))
        if any(not torch.equal(a, b) for a, b in zip(*sides)):
            return name
    return None
