"""Catalogue entries of the nn ops of issue 11 part B (embedding, layer_norm). No math here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import shapes as S
from .errors import ShapeError
from .ops import Attr, Case, Input, OpSpec

REAL, INDEX = "real", "index"  # ops.REAL, shape_specs.INDEX (this module loads while ops is built)
DROPOUT_MASK = "dropout_mask"  # 0 or 1 / (1 - p) per element, drawn once and recorded as a leaf
Shapes = Sequence[Any]


def embedding(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    idx, weight = tuple(shapes[0]), tuple(shapes[1])
    if len(weight) != 2:
        raise ShapeError(op, f"'weight' must be 2-D, got shape {list(weight)}")
    p = at["padding_idx"]
    if p is not None and not -weight[0] <= p < weight[0]:
        raise ShapeError(op, f"Padding_idx must be within num_embeddings ({weight[0]}), got {p}")
    return idx + (weight[1],)


def layer_norm(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    x, ns = tuple(shapes[0]), tuple(at["normalized_shape"])
    if not ns or x[len(x) - len(ns):] != ns or len(ns) > len(x):
        raise ShapeError(op, f"Given normalized_shape={list(ns)}, expected input with shape "
                             f"[*, {', '.join(map(str, ns))}], but got input of size {list(x)}")
    for name, s in (("weight", shapes[1]), ("bias", shapes[2] if len(shapes) > 2 else None)):
        if s is not None and tuple(s) != ns:
            raise ShapeError(op, f"{name} of shape {list(s)} must have normalized_shape {list(ns)}")
    return x


def _same_as_input(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    if tuple(shapes[1]) != tuple(shapes[0]):
        raise ShapeError(op, f"mask of shape {list(shapes[1])} must have the input's shape {list(shapes[0])}")
    return tuple(shapes[0])


def _masked_fill(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    x, mask = tuple(shapes[0]), tuple(shapes[1])
    if S.broadcast(op, x, mask) != x:
        raise ShapeError(op, f"mask of shape {list(mask)} does not broadcast to the input's shape {list(x)}")
    return x


NN_SPECS: tuple[OpSpec, ...] = (
    OpSpec("masked_fill", (Input("input"), Input("mask", "bool", differentiable=False)), _masked_fill,
           "MaskedFillBackward0",
           (Case(((3, 4), (3, 4)), {"value": -1.5}), Case(((2, 3), (3,)), {"value": 0.0}),
            Case(((4, 4), (4, 4)), {"value": 3.0})),  # -inf: tests/test_opsb_nn.py, under a softmax
           attrs=(Attr("value", "fill", 0.0),),
           doc="value where mask, else input (value may be +-inf: masked elements get exact zero gradients)"),
    OpSpec("dropout", (Input("input"), Input("mask", DROPOUT_MASK, differentiable=False)), _same_as_input,
           "MulBackward0", (Case(((3, 4), (3, 4))), Case(((5,), (5,)))),
           doc="input * mask, the mask (0 or 1 / (1 - p)) a recorded non-differentiable input: every witness "
               "sees the same mask"),
    OpSpec("embedding", (Input("input", INDEX, differentiable=False), Input("weight", REAL)), embedding,
           "EmbeddingBackward0",
           (Case(((2, 3), (5, 4))), Case(((7,), (3, 2))), Case(((), (4, 2)))),
           attrs=(Attr("padding_idx", "opt_int"),),
           kink="the padding_idx row gets no gradient (torch's rule; not in the forward definition, so the "
                "symbolic witness does not cover padding_idx)",
           doc="weight[input]: rows of weight picked by int64 indices"),
    OpSpec("layer_norm", (Input("input"), Input("weight", optional=True), Input("bias", optional=True)),
           layer_norm, "NativeLayerNormBackward0",
           (Case(((3, 5), (5,), (5,)), {"normalized_shape": (5,)}),
            Case(((2, 3, 4), None, None), {"normalized_shape": (3, 4)}),
            Case(((4, 3), (3,), None), {"normalized_shape": (3,), "eps": 1e-3})),
           attrs=(Attr("normalized_shape", "shape", ()), Attr("eps", "float", 1e-5)),
           doc="(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims "
               "(biased variance)"),
)
