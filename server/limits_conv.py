"""Hidden work of convolutions and pooling for the server limits: an op's output may be small while
a buffer it allocates is huge — a convolution's im2col buffer (one row per output position, one
column per input channel x kernel tap), its zero-padded input, a transposed convolution's output
before the padding is cropped, a pooling op's padded input and its window copy (output positions x
kernel taps). The engine allocates these (numeric witness, finite differences, the tensor tier's
window copies), so the per-tensor element limit applies to each, computed from declared shapes."""

from __future__ import annotations

import math
from typing import Any

CONVS = ("conv1d", "conv2d")
TRANSPOSED = ("conv_transpose1d", "conv_transpose2d")
POOLS = ("max_pool2d", "avg_pool2d")


def im2col_elements(op: str, shapes: list[tuple[int, ...] | None], out: tuple[int, ...], groups: int = 1) -> int:
    """Rows x columns of the op's im2col buffer: N x output positions x C_in x kernel for a
    convolution; N x input positions x C_out x kernel for a transposed one (its scatter)."""
    x, w = shapes[0] or (), shapes[1] or ()
    if op in CONVS:
        return out[0] * math.prod(out[2:]) * x[1] * math.prod(w[2:])
    return x[0] * math.prod(x[2:]) * groups * math.prod(w[1:])  # w is (C_in, C_out / groups, *kernel)


def _spans(pad: Any, nd: int) -> list[int]:
    """lo + hi padding per spatial dim (one entry per dim, or a (lo, hi) pair per dim)."""
    pad = tuple(pad)
    return [2 * p for p in pad] if len(pad) == nd else [pad[2 * d] + pad[2 * d + 1] for d in range(nd)]


def hidden_buffers(op: str, shapes: list[tuple[int, ...] | None], out: tuple[int, ...],
                   at: dict[str, Any]) -> list[tuple[str, int]]:
    """(what, elements) of each buffer the op allocates besides its output (validated shapes)."""
    x = shapes[0] or ()
    if op in CONVS:
        padded = [s + p for s, p in zip(x[2:], _spans(at["padding"], len(x) - 2))]
        return [("im2col buffer", im2col_elements(op, shapes, out, int(at.get("groups", 1)))),
                ("padded input", x[0] * x[1] * math.prod(padded))]
    if op in TRANSPOSED:
        full = [s + p for s, p in zip(out[2:], _spans(at["padding"], len(out) - 2))]
        return [("im2col buffer", im2col_elements(op, shapes, out, int(at.get("groups", 1)))),
                ("output before cropping its padding", out[0] * out[1] * math.prod(full))]
    if op in POOLS:
        planes = math.prod(x[:-2])
        padded = [s + 2 * p for s, p in zip(x[-2:], at["padding"])]
        return [("padded input", planes * math.prod(padded)),
                ("window copy", planes * math.prod(out[-2:]) * math.prod(at["kernel_size"]))]
    return []


def check_conv_work(limits: Any, plan: Any) -> None:
    """Refuse (RESOURCE_EXHAUSTED, naming the node) a convolution or pooling op one of whose
    hidden buffers would be over ``max_elements_per_tensor``."""
    from .limits import LimitError

    for i, node in enumerate(plan.graph.nodes):
        op = getattr(node, "op", None)
        if op not in CONVS + TRANSPOSED + POOLS:
            continue
        shapes = [None if s is None else plan.shapes[s] for s in _inputs(plan, i)]
        for what, size in hidden_buffers(op, shapes, plan.shapes[i], plan.attrs[i]):
            if size > limits.max_elements_per_tensor:
                weight = f", weight {list(shapes[1] or ())}" if op not in POOLS else ""
                raise LimitError(f"graph.nodes[{i}]", f"{op} {node.name!r}: its {what} would hold {size:,} "
                                                      f"elements (input {list(shapes[0] or ())}{weight}), over "
                                                      f"{limits.max_elements_per_tensor:,} (max_elements_per_tensor)")


def _inputs(plan: Any, i: int) -> list[int | None]:
    from crossgrad.engine.graph import input_indices

    return list(input_indices(plan, i))
