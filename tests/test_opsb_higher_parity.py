"""Issue 14 as a PyTorch user writes it: torch.autograd.grad (create_graph, grad of grad,
retain_graph and its errors, allow_unused/materialize_grads, grad_outputs, only_inputs,
is_grads_batched, several outputs), backward(create_graph=True) accumulating a differentiable
.grad, backward(inputs=...), torch.autograd.functional (hessian, hvp, vhp, jacobian, vjp, jvp,
strategies), a gradient penalty, MAML, and full Hessians plus HVPs through every op class. Each
case (tests/golden/opsb_higher_cases.py) runs under ``import crossgrad as torch`` and is compared
with torch 2.13's recorded result (opsb_sweep.json) and, when installed, live torch."""

from __future__ import annotations

import pytest

from tests.golden.opsb_higher_cases import CASES
from tests.opsb_parity import check_case


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch(name: str) -> None:
    """Against torch 2.13's recorded result, and against live torch when it is installed."""
    check_case(name, CASES[name])
