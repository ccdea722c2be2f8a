"""Catalogue entries of the reductions beyond sum/mean: logsumexp, amax/amin (and max()/min() of
all elements), max/min along a dim (the values; the indices are computed by the Tensor API),
var, std, norm, prod, cumsum. PyTorch's names, defaults and grad_fn names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import shapes as S
from .ops import Attr, Case, OpSpec, Shapes, _x

DIM = Attr("dim", "dims", None)
KEEPDIM = Attr("keepdim", "bool", False)
CASES = (Case(((2, 3),), {"dim": (1,)}), Case(((3, 4),), {"dim": (0,), "keepdim": True}),
         Case(((2, 3, 2),), {"dim": None}), Case(((4,),), {"dim": (0,)}))


def _by_dim(stem: str) -> Any:
    """ProdBackward0 over all elements, ProdBackward1 along a dim (as torch names them)."""
    return lambda shapes, attrs: f"{stem}Backward{0 if attrs.get('dim') is None else 1}"


def _one_dim(op: str, shapes: Shapes, attrs: dict) -> tuple[int, ...]:
    """max/min/cumsum along exactly one dim."""
    if not isinstance(attrs.get("dim"), int):
        raise S.ShapeError(op, "dim must be one int")
    return S.reduction(op, shapes, {**attrs, "dim": attrs["dim"]})


def _extreme(shape_fn: Any, name: str) -> Any:
    """amax/amin/max/min have no identity: torch refuses to reduce an empty dim (numpy raised)."""
    def rule(op: str, shapes: Shapes, attrs: dict) -> tuple[int, ...]:
        out = shape_fn(op, shapes, attrs)
        x, dim = shapes[0], attrs.get("dim")
        if dim is None and 0 in x:
            raise S.ShapeError(op, f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        for d in S.norm_dims(op, dim, len(x)) if dim is not None else ():
            if x[d] == 0:
                raise S.DimError(op, f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return out
    return rule


def _cumsum_shape(op: str, shapes: Shapes, attrs: Mapping[str, Any]) -> tuple[int, ...]:
    S.norm_dim(op, attrs["dim"], max(1, len(shapes[0])))
    return tuple(shapes[0])


REDUCTION_SPECS: tuple[OpSpec, ...] = (
    OpSpec("logsumexp", _x(), S.reduction, "LogsumexpBackward0", CASES, attrs=(DIM, KEEPDIM),
           doc="log(sum(exp(input), dim)), computed stably"),
    OpSpec("amax", _x(), _extreme(S.reduction, "amax"), "AmaxBackward0", CASES, attrs=(DIM, KEEPDIM),
           kink="ties share the gradient evenly (as torch.amax)", doc="largest element along dims"),
    OpSpec("amin", _x(), _extreme(S.reduction, "amin"), "AminBackward0", CASES, attrs=(DIM, KEEPDIM),
           kink="ties share the gradient evenly (as torch.amin)", doc="smallest element along dims"),
    OpSpec("max_all", _x(), _extreme(S.reduction, "max"), "MaxBackward1", (Case(((2, 3),)), Case(((4,),))),
           kink="ties share the gradient evenly (torch's max() of all elements)", doc="tensor.max()"),
    OpSpec("min_all", _x(), _extreme(S.reduction, "min"), "MinBackward1", (Case(((2, 3),)), Case(((4,),))),
           kink="ties share the gradient evenly (torch's min() of all elements)", doc="tensor.min()"),
    OpSpec("max_dim", _x(), _extreme(_one_dim, "max"), "MaxBackward0",
           (Case(((2, 3),), {"dim": 1}), Case(((3, 4),), {"dim": 0, "keepdim": True})),
           attrs=(Attr("dim", "int", 0), KEEPDIM),
           kink="the gradient goes to the returned index only (the first maximum), not split",
           doc="the values of torch.max(input, dim)"),
    OpSpec("min_dim", _x(), _extreme(_one_dim, "min"), "MinBackward0",
           (Case(((2, 3),), {"dim": 1}), Case(((3, 4),), {"dim": 0, "keepdim": True})),
           attrs=(Attr("dim", "int", 0), KEEPDIM),
           kink="the gradient goes to the returned index only (the first minimum), not split",
           doc="the values of torch.min(input, dim)"),
    OpSpec("var", _x(), S.reduction, "VarBackward0", CASES + (Case(((5,),), {"correction": 0}),),
           attrs=(DIM, Attr("correction", "float", 1.0), KEEPDIM),
           doc="sum((x - mean)^2) / (N - correction)"),
    OpSpec("std", _x(), S.reduction, "StdBackward0", CASES + (Case(((5,),), {"correction": 0}),),
           attrs=(DIM, Attr("correction", "float", 1.0), KEEPDIM),
           kink="a constant row (std 0): the gradient is 0 (as torch's std_backward)", doc="sqrt(var)"),
    OpSpec("norm", _x(), S.reduction, "LinalgVectorNormBackward0",
           CASES + (Case(((2, 3),), {"p": 1.0, "dim": (1,)}),),
           attrs=(Attr("p", "float", 2.0), DIM, KEEPDIM),
           kink="p=1 at a zero element: sign(0) = 0 (as abs)", doc="(sum |x|^p)^(1/p); p = 1 or 2"),
    OpSpec("prod", _x(), S.reduction, _by_dim("Prod"), CASES, attrs=(DIM, KEEPDIM),
           doc="product of the elements"),
    OpSpec("cumsum", _x(), _cumsum_shape, "CumsumBackward0",
           (Case(((2, 3),), {"dim": 1}), Case(((4,),), {"dim": 0}), Case(((3, 2),), {"dim": 0})),
           attrs=(Attr("dim", "int", 0),), doc="running sum along dim"),
)
