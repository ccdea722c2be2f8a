"""The tensor tier's max_pool2d on a strided window view of the (-inf)-padded input.

The forward definition is lowering_pool.py's: each output is ``Max`` of its window, one template
in kh x kw placeholders; its partials come from ``sympy.diff`` (a Heaviside of the element minus
the Max of the others). Here that template and its partials read the kernel taps as strided
views of the padded input — no (outputs x taps) index array, no grouping of ragged windows — and
the adjoint of reading a tap is a slice-add into the padded buffer, the padding cropped off. A
padded position is -inf: it never wins a window, so its partial is 0 (torch's padding).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from ..pool_specs import planes, pool_geometry
from .lowering_pool import POOL_LOWERING
from .undefined import times


class MaxPoolStep:
    """max_pool2d of one signature (3-D unbatched inputs as one sample)."""

    first_order_only = True  # the order-2 walk takes lowering.py's TemplateStep (tensor.template_plan)
    saves = True

    def __init__(self, shapes: list, attrs: dict, out_shape: tuple,
                 compile_template: Callable[[sp.Expr, int], Any]) -> None:
        self.x_shape, self.out_shape = tuple(shapes[0]), tuple(out_shape)
        x = planes(self.x_shape)
        kernel, stride, pad, dil, out = pool_geometry("max_pool2d", x, attrs)
        highs = [max(0, (out[d] - 1) * stride[d] + dil[d] * (kernel[d] - 1) + 1 - x[2 + d] - pad[d]) for d in range(2)]
        self.x4, self.out4 = x, x[:2] + tuple(out)
        self.pads = [(0, 0), (0, 0), (pad[0], highs[0]), (pad[1], highs[1])]
        self.taps = [tuple(slice(dil[d] * t[d], dil[d] * t[d] + stride[d] * (out[d] - 1) + 1, stride[d])
                           for d in range(2)) for t in np.ndindex(*kernel)]
        self.template = _window_template(tuple(kernel))
        self.compiled = compile_template(self.template, len(self.taps))

    def _padded(self, x: np.ndarray) -> np.ndarray:
        x = x.reshape(self.x4)
        return np.pad(x, self.pads, constant_values=-np.inf) if any(lo or hi for lo, hi in self.pads) else x

    def forward(self, inputs: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
        z = self._padded(inputs[0])  # type: ignore[arg-type]
        cols = [z[(slice(None), slice(None)) + tap] for tap in self.taps]
        out = np.asarray(self.compiled.forward(*cols), np.float64)
        return out.reshape(self.out_shape), (cols, z.shape)

    def backward(self, tape: Any, adjoint: np.ndarray, wants: list[bool]) -> list[np.ndarray | None]:
        if not wants[0]:
            return [None] * len(wants)
        cols, padded = tape
        g = adjoint.reshape(self.out4)
        z = np.zeros(padded)
        for tap, partial in zip(self.taps, self.compiled.gradient(*cols)):
            z[(slice(None), slice(None)) + tap] += times(g, partial)  # a masked NaN window: 0
        (_, _), (_, _), (h0, _), (w0, _) = self.pads
        crop = z[:, :, h0:h0 + self.x4[2], w0:w0 + self.x4[3]]
        return [crop.reshape(self.x_shape)] + [None] * (len(wants) - 1)


@lru_cache(maxsize=32)
def _window_template(kernel: tuple[int, ...]) -> sp.Expr:
    """lowering_pool.py's template of one full window (its forward definition, read off a window
    of exactly the kernel's size)."""
    attrs = {"kernel_size": kernel, "stride": (), "padding": (0, 0), "dilation": (1, 1), "ceil_mode": False}
    stages = POOL_LOWERING["max_pool2d"]([(1, 1) + kernel], attrs)
    return stages[0].groups[0].template
