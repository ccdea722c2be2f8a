"""Catalogue entries of the pointwise losses of issue 11 part B. No math here.

Each is an elementwise loss of input and target (same shapes), then the reduction; grad_fn
names are the ones torch 2.13 shows (l1_loss and kl_div are composites there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import shapes as S
from .errors import ShapeError
from .ops import Attr, Case, Input, OpSpec

REAL, POSITIVE, UNIT, WEIGHT = "real", "positive", "unit", "weight"  # ops' domains (ops is being built)
REDUCTIONS = ("none", "mean", "sum")
Shapes = Sequence[Any]
_COMPOSITE = {"mean": "MeanBackward0", "sum": "SumBackward0"}


def _kl_shape(op: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
    if at["reduction"] == "batchmean":
        return S.pointwise_loss(op, shapes, {**at, "reduction": "mean"})
    return S.pointwise_loss(op, shapes, at)


def _l1_name(shapes: Shapes, at: Mapping[str, Any]) -> str:
    return _COMPOSITE.get(at["reduction"], "AbsBackward0")


def _smooth_l1_name(shapes: Shapes, at: Mapping[str, Any]) -> str:
    return _l1_name(shapes, at) if at["beta"] == 0 else "SmoothL1LossBackward0"


def _kl_name(shapes: Shapes, at: Mapping[str, Any]) -> str:
    if at["reduction"] == "batchmean":
        return "DivBackward0"
    return _COMPOSITE.get(at["reduction"], "MulBackward0" if at["log_target"] else "SubBackward0")


def _nonnegative(op: str, name: str) -> Any:
    def rule(o: str, shapes: Shapes, at: dict) -> tuple[int, ...]:
        if at[name] < 0:
            raise ShapeError(op, f"{op} does not support negative values for {name}, got {at[name]}")
        return S.pointwise_loss(op, shapes, at)

    return rule


def _xy(target: str = REAL, x: str = REAL) -> tuple[Input, ...]:
    return (Input("input", x), Input("target", target))


_RED = Attr("reduction", "choice", "mean", REDUCTIONS)
_CASES = (Case(((2, 3), (2, 3))), Case(((4,), (4,)), {"reduction": "sum"}),
          Case(((2, 3), (2, 3)), {"reduction": "none"}))

LOSS_SPECS: tuple[OpSpec, ...] = (
    OpSpec("nll_loss", (Input("input"), Input("target", "class", False, False), Input("weight", WEIGHT, True, False)),
           S.cross_entropy, "NllLossBackward0",
           (Case(((4, 5), (4,), None)), Case(((5,), (), None)), Case(((4, 5), (4,), (5,))),
            Case(((4, 3), (4,), (3,)), {"reduction": "sum"}),
            Case(((5, 3), (5,), None), {"reduction": "none", "ignore_index": 1})),
           attrs=(Attr("ignore_index", "int", -100), _RED),
           doc="-w[t] input[t] per sample (input: log-probabilities); mean divides by the sum of w[t]"),
    OpSpec("l1_loss", _xy(), S.pointwise_loss, _l1_name, _CASES, attrs=(_RED,),
           kink="input == target: gradient 0 (torch's sign(0))", doc="|input - target|, reduced"),
    OpSpec("smooth_l1_loss", _xy(), _nonnegative("smooth_l1_loss", "beta"), _smooth_l1_name,
           _CASES + (Case(((5,), (5,)), {"beta": 0.5}), Case(((3,), (3,)), {"beta": 4.0})),
           attrs=(_RED, Attr("beta", "float", 1.0)),
           kink="input == target when beta == 0: gradient 0",
           doc="0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)"),
    OpSpec("huber_loss", _xy(), _nonnegative("huber_loss", "delta"), "HuberLossBackward0",
           _CASES + (Case(((5,), (5,)), {"delta": 0.5}),),
           attrs=(_RED, Attr("delta", "float", 1.0)),
           doc="0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta) (d = input - target)"),
    OpSpec("kl_div", _xy(POSITIVE), _kl_shape, _kl_name,
           (Case(((2, 3), (2, 3))), Case(((4, 2), (4, 2)), {"reduction": "batchmean"}),
            Case(((3,), (3,)), {"reduction": "none", "log_target": True}),
            Case(((2, 2), (2, 2)), {"reduction": "sum"})),
           attrs=(Attr("reduction", "choice", "mean", REDUCTIONS + ("batchmean",)),
                  Attr("log_target", "bool", False)),
           doc="target (log target - input), or exp(target) (target - input) with log_target; input is log-probs"),
    OpSpec("binary_cross_entropy",
           (Input("input", UNIT), Input("target", UNIT), Input("weight", WEIGHT, True, False)),
           S.pointwise_loss, "BinaryCrossEntropyBackward0",
           (Case(((2, 3), (2, 3), None)), Case(((4,), (4,), (4,)), {"reduction": "sum"}),
            Case(((2, 3), (2, 3), (3,)), {"reduction": "none"})),
           attrs=(_RED,), doc="-w [target log(input) + (1 - target) log(1 - input)], input probabilities"),
)
