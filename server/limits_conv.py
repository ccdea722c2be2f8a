"""Convolutions' hidden work for the server limits: a conv's output may be small while its im2col
buffer (one row per output position, one column per input channel x kernel tap) is huge — the
engine allocates that buffer (numeric witness, finite differences, the tensor tier's window
copies), so the per-tensor element limit applies to it, computed from declared shapes."""

from __future__ import annotations

import math
from typing import Any

CONVS = ("conv1d", "conv2d")
TRANSPOSED = ("conv_transpose1d", "conv_transpose2d")


def im2col_elements(op: str, shapes: list[tuple[int, ...] | None], out: tuple[int, ...], groups: int = 1) -> int:
    """Rows x columns of the op's im2col buffer: N x output positions x C_in x kernel for a
    convolution; N x input positions x C_out x kernel for a transposed one (its scatter)."""
    x, w = shapes[0] or (), shapes[1] or ()
    if op in CONVS:
        return out[0] * math.prod(out[2:]) * x[1] * math.prod(w[2:])
    return x[0] * math.prod(x[2:]) * groups * math.prod(w[1:])  # w is (C_in, C_out / groups, *kernel)


def check_conv_work(limits: Any, plan: Any) -> None:
    """Refuse (RESOURCE_EXHAUSTED, naming the node) a convolution whose im2col buffer would be
    over ``max_elements_per_tensor``."""
    from .limits import LimitError

    for i, node in enumerate(plan.graph.nodes):
        op = getattr(node, "op", None)
        if op not in CONVS + TRANSPOSED:
            continue
        shapes = [None if s is None else plan.shapes[s] for s in _inputs(plan, i)]
        size = im2col_elements(op, shapes, plan.shapes[i], int(plan.attrs[i].get("groups", 1)))
        if size > limits.max_elements_per_tensor:
            raise LimitError(f"graph.nodes[{i}]", f"{op} {node.name!r}: its im2col buffer would hold {size:,} "
                                                  f"elements (input {list(shapes[0] or ())}, weight "
                                                  f"{list(shapes[1] or ())}), over {limits.max_elements_per_tensor:,} "
                                                  "(max_elements_per_tensor)")


def _inputs(plan: Any, i: int) -> list[int | None]:
    from crossgrad.engine.graph import input_indices

    return list(input_indices(plan, i))
