"""Exact-tier work estimates for the model ops whose placeholders per output are not the op's
arity (issues 11/12): a convolution output reads a whole window of input and kernel, a pooling
output its window, a normalized element its whole row. Without these, exact.estimate_work
counted a LeNet or GPT block at a fraction of its real cost, and ``auto`` sent them to a
multi-second exact run instead of the tensor tier. Units are exact.OP_COST's (matmul-equivalent
placeholder evaluations); weights are from the same runs' wall time, rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Shape = tuple[int, ...]
ROW_COST = 30.0  # layer_norm over (64, 32) took ~5x softmax's cost per placeholder (measured, loaded machine)
TRANSCENDENTAL = 30.0  # erf per element at 40 digits (gelu (64, 128): ~3x a plain per-element op)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _conv(shapes: list[Shape | None], out: Shape) -> float:
    """out x (2 x window placeholders + bias), window = C/groups x kernel (the weight's row)."""
    w = shapes[1] or ()
    window = _size(w[1:]) if w else 1
    return _size(out) * (2 * window + 1)


def _conv_transpose(shapes: list[Shape | None], out: Shape) -> float:
    w = shapes[1] or ()
    window = (w[0] * _size(w[2:])) if w else 1
    return _size(out) * (2 * window + 1)


Work = Callable[[list[Shape | None], Shape], float]


def _rows(row: Callable[[list[Shape | None], Shape], int]) -> Work:
    """Elements x row length plus row length squared (a row template is differentiated once)."""

    def work(shapes: list[Shape | None], out: Shape) -> float:
        k = max(1, row(shapes, out))
        return ROW_COST * (_size(shapes[0] or ()) * k + k * k)

    return work


def _pool(shapes: list[Shape | None], out: Shape) -> float:
    """out x the average window (input elements per output element, at least one)."""
    x = shapes[0] or ()
    return 3.2 * _size(out) * max(1.0, _size(x) / max(1, _size(out)))


def _per_element(cost: float) -> Work:
    return lambda shapes, out: cost * _size(out)


def _layer_norm_row(shapes: list[Shape | None], out: Shape) -> int:
    """The weight's size; without a weight, the last dim (the attributes are not at hand)."""
    weight = shapes[1] if len(shapes) > 1 else None
    return _size(weight) if weight else (out[-1] if out else 1)


WORK: dict[str, Work] = {
    "conv1d": _conv, "conv2d": _conv,
    "conv_transpose1d": _conv_transpose, "conv_transpose2d": _conv_transpose,
    "max_pool2d": _pool, "avg_pool2d": _pool, "adaptive_avg_pool2d": _pool, "adaptive_max_pool2d": _pool,
    "layer_norm": _rows(_layer_norm_row),
    "batch_norm": _rows(lambda shapes, out: _size(out) // max(1, out[1] if len(out) > 1 else 1)),
    "gelu": _per_element(TRANSCENDENTAL), "erf": _per_element(TRANSCENDENTAL), "silu": _per_element(10.0),
    "masked_fill": _per_element(3.2),
    # cumprod is a log-depth scan: 2 placeholders per element per stage, log2 n stages (n the scanned
    # dim; the attributes are not at hand, so the longest dim bounds it)
    "cumprod": lambda shapes, out: 2 * _size(out) * max(1, math.ceil(math.log2(max(out, default=1) or 1))),
}
