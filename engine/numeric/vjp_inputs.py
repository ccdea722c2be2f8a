"""Which recorded gradients depend on the op's input, as torch decides it. A piecewise-linear op's
VJP here multiplies by a constant mask (relu: g * (x > 0)), so under create_graph its input
gradient would not require grad; torch's backward formulas for these ops take ``self``
(threshold_backward(grad, self), grad * self.sgn(), max_pool2d_with_indices_backward(grad, self,
indices), ...), so torch's does, with a zero derivative: ``grad(grad(relu(x).sum(), x,
create_graph=True)[0].sum(), x)`` is zeros in torch, not "does not require grad". Such a gradient
is passed through ``where(True, g, x)``: the same values, a zero derivative with respect to x."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

# ops whose torch backward takes the input although its derivative there is zero (a.e.)
TAKES_INPUT = frozenset({"relu", "abs", "leaky_relu", "hardtanh", "max_pool2d", "adaptive_max_pool2d",
                         "l1_loss", "norm",
                         # linear ops whose backward reads self: avg_pool2d_backward(grad, self),
                         # _adaptive_avg_pool2d_backward(grad, self), nll_loss_backward(grad, self, ...)
                         "avg_pool2d", "adaptive_avg_pool2d", "nll_loss"})
# reflection_pad*_backward(grad, self) and replication_pad*_backward(grad, self); constant and
# circular padding's backward is a slice of grad alone
_PAD_TAKES_INPUT = frozenset({"reflect", "replicate"})


def _takes_input(node: Any) -> bool:
    if node.op == "pad":
        return node.attrs.get("mode") in _PAD_TAKES_INPUT
    if node.op == "adaptive_avg_pool2d":  # torch's (1, 1) output is a mean of grad alone
        return tuple(node.attrs.get("output_size", ())) != (1, 1)
    return node.op in TAKES_INPUT


def linked(node: Any, grads: tuple) -> tuple:
    """``grads`` with each input gradient that lost its input made to depend on it (zero derivative)."""
    if node.inputs is None or not _takes_input(node):
        return grads
    from .higher import as_plain, record

    out = list(grads)
    for i, (g, x) in enumerate(zip(grads, node.inputs)):
        if (isinstance(g, Tensor) and not g.requires_grad and isinstance(x, Tensor) and x.requires_grad
                and g.shape == x.shape and g.dtype == x.dtype):
            out[i] = as_plain(record("where", (np.ones(tuple(g.shape), bool), g, x)))
    return tuple(out)
