"""Run a program of steps (forward, backward, zero_grad, sgd_step) on the numeric engine,
with PyTorch's semantics: gradients accumulate, freed graphs refuse a second backward."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Leaf, Plan, input_indices
from .autograd import no_grad, set_grad_enabled
from .dispatch import apply
from .tensor import Tensor


class NumericSession:
    """The leaves as engine tensors that live across steps; each forward builds a new graph."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.leaves: dict[int, Tensor] = {}
        for i, node in enumerate(plan.graph.nodes):
            if isinstance(node, Leaf):
                t = Tensor._make(np.array(node.value))
                self.leaves[i] = t.requires_grad_() if node.requires_grad else t
        self.values: list[Tensor] = []
        self.forward()

    def forward(self) -> None:
        values: list[Tensor] = []
        for i, _node in enumerate(self.plan.graph.nodes):
            if i in self.leaves:
                values.append(self.leaves[i])
            else:
                node = self.plan.graph.nodes[i]
                inputs = tuple(None if s is None else values[s] for s in input_indices(self.plan, i))
                with set_grad_enabled(not node.no_grad):  # type: ignore[union-attr]
                    values.append(apply(node.op, inputs, self.plan.attrs[i]))  # type: ignore[union-attr]
        self.values = values

    def backward(self, root: int, gradient: np.ndarray | None, retain_graph: bool) -> None:
        """Raises RuntimeError exactly where PyTorch would."""
        out = self.values[root]
        seed = None if gradient is None else Tensor._make(np.asarray(gradient, out._data.dtype))
        out.backward(seed, retain_graph=retain_graph)

    def zero_grad(self) -> None:
        for t in self.leaves.values():
            t.grad = None

    def sgd_step(self, lr: float) -> None:
        with no_grad():
            for t in self.leaves.values():
                if t.requires_grad and t._grad is not None:
                    t._data -= lr * t._grad._data

    def grads(self) -> dict[int, np.ndarray | None]:
        return {i: (None if t._grad is None else t._grad._data.copy())
                for i, t in self.leaves.items() if t.requires_grad}

    def params(self) -> dict[int, np.ndarray]:
        return {i: t._data.copy() for i, t in self.leaves.items() if t.requires_grad}


def run_step(session: Any, kind: str, **args: Any) -> str | None:
    """One step; returns the error message when the step fails (as PyTorch would)."""
    try:
        getattr(session, kind)(**args)
    except RuntimeError as err:
        return str(err)
    return None
