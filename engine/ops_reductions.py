"""Catalogue entries for the transformer's reductions (issue 11, part A). No math here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import shapes as S
from .errors import ShapeError
from .ops import Attr, Case, Input, OpSpec, Shapes

DIMS = (Attr("dim", "dims"), Attr("keepdim", "bool", False))  # dim None: every dim
ONE_DIM = (Attr("dim", "opt_int"), Attr("keepdim", "bool", False))  # dim None: every element
REDUCE_CASES = (Case(((2, 3),), {"dim": 1}), Case(((2, 3, 4),), {"dim": (0, 2), "keepdim": True}),
                Case(((3, 4),)), Case(((5,),), {"dim": -1}))
ONE_DIM_CASES = (Case(((2, 3),)), Case(((2, 3),), {"dim": 1}), Case(((3, 4, 2),), {"dim": 0, "keepdim": True}),
                 Case(((4, 3),), {"dim": -1}))


def _by_dim(stem: str) -> Callable[[Shapes, Mapping[str, Any]], str]:
    """max()/prod() of every element are Backward1/Backward0 overloads of the dim versions."""
    all_version = {"Max": 1, "Min": 1, "Prod": 0}[stem]
    return lambda shapes, attrs: f"{stem}Backward{all_version if attrs.get('dim') is None else 1 - all_version}"


def _norm_shape(op: str, shapes: Shapes, attrs: dict[str, Any]) -> tuple[int, ...]:
    if attrs["p"] not in (1.0, 2.0):
        raise ShapeError(op, f"p={attrs['p']} is not supported (p=1 and p=2 are)")
    return S.reduction(op, shapes, attrs)


def _cumsum_shape(op: str, shapes: Shapes, attrs: dict[str, Any]) -> tuple[int, ...]:
    S.norm_dim(op, attrs["dim"], len(shapes[0]))
    return tuple(shapes[0])


def _spec(name: str, grad_fn: Any, shape_rule: Any, cases: tuple[Case, ...], attrs: tuple[Attr, ...],
          doc: str, kink: str = "") -> OpSpec:
    return OpSpec(name, (Input("input"),), shape_rule, grad_fn, cases, attrs=attrs, kink=kink, doc=doc)


_TIES = "ties share the gradient evenly (PyTorch's amax/amin and max()/min() of all elements)"
_ONE = "max(dim)/min(dim): the gradient goes to the returned index only (the first extreme)"
_CORRECTION = (Attr("correction", "float", 1.0),)

REDUCTION_SPECS: tuple[OpSpec, ...] = (
    _spec("logsumexp", "LogsumexpBackward0", S.reduction, REDUCE_CASES, DIMS,
          "log(sum(exp(input))) over dim, shifted by the max for stability"),
    _spec("amax", "AmaxBackward0", S.reduction, REDUCE_CASES, DIMS, "largest element over dim", _TIES),
    _spec("amin", "AminBackward0", S.reduction, REDUCE_CASES, DIMS, "smallest element over dim", _TIES),
    _spec("max", _by_dim("Max"), S.reduction, ONE_DIM_CASES, ONE_DIM,
          "values of max(dim) (indices: argmax, no gradient); max() of every element", f"{_ONE}; {_TIES}"),
    _spec("min", _by_dim("Min"), S.reduction, ONE_DIM_CASES, ONE_DIM,
          "values of min(dim) (indices: argmin, no gradient); min() of every element", f"{_ONE}; {_TIES}"),
    _spec("var", "VarBackward0", S.reduction,
          REDUCE_CASES + (Case(((3, 4),), {"dim": 0, "correction": 0.0}),), DIMS + _CORRECTION,
          "sum((input - mean)^2) / (N - correction) over dim"),
    _spec("std", "StdBackward0", S.reduction,
          REDUCE_CASES + (Case(((3, 4),), {"dim": 0, "correction": 0.0}),), DIMS + _CORRECTION,
          "sqrt(var(input, dim, correction))"),
    _spec("norm", "LinalgVectorNormBackward0", _norm_shape,
          REDUCE_CASES + (Case(((3, 4),), {"p": 1.0, "dim": 1}), Case(((2, 3),), {"p": 1.0})),
          (Attr("p", "float", 2.0),) + DIMS,
          "vector norm over dim: p=2 sqrt(sum x^2), p=1 sum |x|",
          "p=1 at 0: sign(0) = 0; p=2 of an all-zero vector: gradient 0 (PyTorch)"),
    _spec("cumsum", "CumsumBackward0", _cumsum_shape,
          (Case(((2, 3),), {"dim": 1}), Case(((4,),), {"dim": 0}), Case(((2, 3, 4),), {"dim": -2})),
          (Attr("dim", "int", 0),), "running sum along dim"),
    _spec("prod", _by_dim("Prod"), S.reduction, ONE_DIM_CASES, ONE_DIM,
          "product over dim (every element when dim is None); zeros handled exactly"),
)
