"""Concrete values of a captured graph: the data-dependent, non-differentiable tensors (bool
comparison results, int64 indices of max(dim), dropout masks) become leaves with these values.

The captured graph is run once more on the example values, from the random state the capture
started with, so a dropout mask is the one PyTorch draws for that call (CPU dropout draws
``empty_like(x).bernoulli_(1 - p)``; the mask is recorded here as ``noise / (1 - p)``).
"""

from __future__ import annotations

from typing import Any

import torch

DROPOUT = torch.ops.aten.dropout.default


def is_dropout(node: torch.fx.Node) -> bool:
    """A dropout that draws a mask (training mode, 0 < p)."""
    args: Any = node.args
    return node.target is DROPOUT and bool(args[2]) and float(args[1]) > 0


class _Recorder(torch.fx.Interpreter):
    def __init__(self, module: torch.fx.GraphModule) -> None:
        super().__init__(module)
        self.values: dict[torch.fx.Node, Any] = {}
        self.masks: dict[torch.fx.Node, torch.Tensor] = {}

    def run_node(self, n: torch.fx.Node) -> Any:
        if n.op == "call_function" and is_dropout(n):
            args: Any = n.args
            x, p = self.env[args[0]], float(args[1])
            mask = torch.zeros_like(x) if p >= 1 else torch.empty_like(x).bernoulli_(1 - p).div_(1 - p)
            self.masks[n], result = mask, x * mask
        else:
            result = super().run_node(n)
        self.values[n] = result
        return result


def record(module: torch.fx.GraphModule, inputs: list[torch.Tensor],
           rng_state: torch.Tensor) -> tuple[dict[torch.fx.Node, Any], dict[torch.fx.Node, torch.Tensor]]:
    """Every node's value and every dropout's mask for ``inputs`` (copies: buffers stay untouched)."""
    recorder = _Recorder(module)
    torch.set_rng_state(rng_state)
    with torch.no_grad():
        recorder.run(*[v.clone() for v in inputs], enable_io_processing=False)
    return recorder.values, recorder.masks
