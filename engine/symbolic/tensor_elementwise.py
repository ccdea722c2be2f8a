"""The tensor tier's elementwise ops on whole arrays, with numpy broadcasting instead of index arrays.

An elementwise op's forward definition is lowering.py's (one template per output element, in
placeholders that stand for one element of each input). Here that template and its
``sympy.diff`` partials are applied to the input arrays directly: numpy broadcasts them as the
op does, and a broadcast input's adjoint is summed back over the broadcast axes (the adjoint of
reading one element many times). No (elements x inputs) gather is built, compared or indexed —
for a 500,000-element gelu that was most of its cold derivation and a copy per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from . import chunked
from .codegen import numpy_function
from .lowering import BINARY, UNARY, lower
from .memo import Memo
from .templates import args
from .undefined import piecewise, times

ELEMENTWISE = frozenset(UNARY) | frozenset(BINARY) | {"where", "masked_fill", "dropout"}
_COSTLY = (sp.erf, sp.exp, sp.log, sp.tanh, sp.sin, sp.cos)  # functions worth evaluating once, not twice
_JOINT = Memo(512)


class Partials(tuple):
    """A first-order tape: the SymPy partials, computed with the output (not the input columns)."""


def joint_function(template: sp.Expr, partials: tuple[sp.Expr, ...], n_args: int) -> Any:
    """The template and its partials as ONE numpy function (common subexpressions computed once),
    when they share a costly function call (gelu's erf, tanh's tanh, sigmoid's exp); else None."""
    shared = template.atoms(*_COSTLY) & set().union(*(p.atoms(*_COSTLY) for p in partials))
    if not shared:
        return None
    return _JOINT.get((template, n_args), lambda: numpy_function(args(n_args), [template, *partials], cse=True))


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``grad`` (of the broadcast shape) summed back to ``shape``."""
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    kept = tuple(d for d, n in enumerate(shape) if n == 1 and grad.shape[d] != 1)
    if kept:
        grad = grad.sum(axis=kept, keepdims=True)
    return np.broadcast_to(grad, shape)


class ElementwiseStep:
    """One elementwise op of one signature: template on arrays forward, partials backward."""

    def __init__(self, template: sp.Expr, sources: tuple[int, ...], shapes: list, out_shape: tuple,
                 compiled: Any) -> None:
        self.template, self.sources, self.compiled = template, sources, compiled
        self.shapes = [None if s is None else tuple(s) for s in shapes]
        self.out_shape = tuple(out_shape)
        self.saves = any(sp.diff(template, v).free_symbols for v in template.free_symbols)
        found = getattr(compiled, "partials", ())
        self.piecewise = piecewise(found)  # relu, maximum, clamp: NaN partials where undefined
        self.joint = joint_function(template, found, len(sources)) if found else None

    def forward(self, inputs: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
        cols = [inputs[s] for s in self.sources]
        out = np.asarray(self.compiled.forward(*cols), np.float64)
        if out.shape != self.out_shape:  # a constant template, or inputs all broadcast
            out = np.array(np.broadcast_to(out, self.out_shape))
        return out, cols

    def forward_with_partials(self, inputs: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
        """forward, its tape the partials when one function computes them with the output."""
        if self.joint is None:
            return self.forward(inputs)
        cols = [inputs[s] for s in self.sources]
        found = chunked.evaluate(self.joint, cols, self.out_shape) if chunked.chunkable(cols, self.out_shape) else None
        out, *partials = self.joint(*cols) if found is None else found
        out = np.asarray(out, np.float64)
        if out.shape != self.out_shape:
            out = np.array(np.broadcast_to(out, self.out_shape))
        return out, Partials(partials)

    def backward(self, cols: list, adjoint: np.ndarray, wants: list[bool]) -> list[np.ndarray | None]:
        """``cols``: the input columns, or their Partials (forward_with_partials's tape)."""
        grads: list[Any] = [None] * len(wants)
        if not any(wants[s] for s in self.sources):
            return grads
        partials = cols if isinstance(cols, Partials) else self.compiled.gradient(*cols)
        adjoint = adjoint.reshape(self.out_shape)
        for s, partial in zip(self.sources, partials):
            if not wants[s]:
                continue
            product = times(adjoint, partial) if self.piecewise else adjoint * partial
            part = unbroadcast(product, self.shapes[s])  # type: ignore[arg-type]
            grads[s] = part if grads[s] is None else grads[s] + part
        return grads


def elementwise_step(op: str, shapes: list, attrs: dict, out_shape: tuple,
                     compile_template: Callable[[sp.Expr, int], Any]) -> ElementwiseStep | None:
    """The op's step, its template read off lowering.py's definition at scalar inputs (None:
    not a single elementwise template)."""
    if op not in ELEMENTWISE or any(s is None for s in shapes):
        return None
    stages = lower(op, [()] * len(shapes), attrs, [None] * len(shapes))
    if len(stages) != 1 or len(stages[0].groups) != 1:
        return None
    group = stages[0].groups[0]
    return ElementwiseStep(group.template, group.sources, shapes, out_shape,
                           compile_template(group.template, len(group.sources)))
