"""A capture must be the function: work done outside PyTorch's ops is refused, not misjudged.

A trace records only PyTorch ops. A custom ``autograd.Function`` whose forward computes with
numpy (``torch.from_numpy(np.exp(x.detach().numpy()))``, the pattern of PyTorch's own "extending
with numpy" tutorial), or a function that goes through ``.tolist()`` or Python numbers, is
recorded with that part as a constant: the graph no longer moves with the input, and every
witness would blame PyTorch's correct gradient. So on a fresh capture holding no data computed
from the inputs, the inputs that require grad are moved (seeded, about 1% of their size) and the
graph's forward there is compared with PyTorch's own forward there; when they clearly differ,
``UntracedComputationError`` says so instead of a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from crossgrad.engine.graph import Graph, Leaf, validate
from crossgrad.engine.numeric.run_graph import forward_program

from .build import UnsupportedOpError, leaf_value
from .capture import buffers_kept
from .decomp_guard import RELATIVE

MOVE = 1e-2  # the move, relative to each element's size (plus MOVE^2 absolute)


class UntracedComputationError(UnsupportedOpError):
    """The captured graph does not move with the inputs as PyTorch's forward does."""

    def __init__(self, detail: str) -> None:
        super().__init__("computation outside PyTorch's ops", "")
        self.args = ("crossgrad cannot check this function: its captured graph does not compute what PyTorch "
                     f"computes once the inputs move ({detail}). Part of the forward runs outside PyTorch's ops "
                     "(numpy, .item(), .tolist(), Python numbers), which a trace records as constants; "
                     "write that part with torch operations",)


def _moved(t: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    noise = torch.randn(t.shape, generator=generator, dtype=torch.float64)
    base = t.detach().double()
    return (base + MOVE * (base.abs() + MOVE) * noise).to(t.dtype)


def _theirs(func: Callable[..., Any], inputs: list[Any], rng_state: torch.Tensor, direction: list[torch.Tensor],
            summed: bool, outputs_of: Callable[[Any], list[torch.Tensor]]) -> np.ndarray:
    torch.set_rng_state(rng_state)
    with torch.no_grad(), buffers_kept(func):
        outputs = outputs_of(func(*inputs))
    if not summed:
        return outputs[0].detach().double().numpy()
    return np.asarray(sum(float((o.double() * d.double()).sum()) for o, d in zip(outputs, direction)))


def check_traced(func: Callable[..., Any], inputs: list[Any], graph: Graph, input_leaves: dict[str, torch.Tensor],
                 direction: list[torch.Tensor], summed: bool, rng_state: torch.Tensor,
                 outputs_of: Callable[[Any], list[torch.Tensor]]) -> None:
    """Raises UntracedComputationError when ``graph`` (filled with this call's values) and PyTorch's
    forward clearly differ at moved inputs."""
    generator = torch.Generator().manual_seed(0)
    moved = {id(t): _moved(t, generator) for t in input_leaves.values() if t.requires_grad and t.is_floating_point()}
    if not moved:
        return
    names = {name: moved[id(t)] for name, t in input_leaves.items() if id(t) in moved}
    nodes = [Leaf(n.name, leaf_value(n.name, names[n.name]), n.requires_grad)
             if isinstance(n, Leaf) and n.name in names else n for n in graph.nodes]
    ours = np.asarray(forward_program(validate(Graph(tuple(nodes), graph.output)))({}), np.float64)
    theirs = _theirs(func, [moved.get(id(v), v) if isinstance(v, torch.Tensor) else v for v in inputs],
                     rng_state, direction, summed, outputs_of)
    if ours.shape != theirs.shape:
        return  # not this check's business: the forward comparisons elsewhere see shapes
    finite = np.isfinite(ours) & np.isfinite(theirs)
    if not finite.any():
        return
    tol = max(RELATIVE.get(t.dtype, 1e-3) for t in input_leaves.values() if id(t) in moved)
    scale = max(float(np.abs(theirs[finite]).max()), float(np.abs(ours[finite]).max()), np.finfo(np.float64).tiny)
    gap = float(np.abs(ours[finite] - theirs[finite]).max())
    if gap > 10 * tol * scale:
        raise UntracedComputationError(f"forward values differ by up to {gap:.6g} of {scale:.6g}")
