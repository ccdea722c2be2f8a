"""The op catalogue: what each op is and promises. No math lives here.

One :class:`OpSpec` per op: PyTorch name, tensor inputs (with the value domain tests draw
from and whether a gradient flows into them), attributes with defaults, the shape rule,
the kink convention, and the ``grad_fn`` name PyTorch shows. The numeric tables
(``crossgrad.engine.numeric.rules``) and, later, the symbolic lowering each implement every
entry; tests are parametrized over :data:`CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import shapes as S
from .errors import AttributeSpecError, UnknownOpError

Shape = tuple[int, ...]
Shapes = Sequence[Any]  # one shape per input; None for an absent optional input

# Value domains the test strategies draw from (see tests/strategies.py).
REAL: str = "real"
POSITIVE: str = "positive"
NONZERO: str = "nonzero"
UNIT: str = "unit"
CLASS: str = "class"
WEIGHT: str = "weight"


@dataclass(frozen=True)
class Input:
    """One tensor input: its name, value domain, optionality and differentiability."""

    name: str
    domain: str = REAL
    optional: bool = False
    differentiable: bool = True
    variadic: bool = False  # the last input only: it takes one or more tensors (cat, stack)


@dataclass(frozen=True)
class Attr:
    """One attribute: name, kind ('int', 'float', 'bool', 'choice', 'dims', 'shape', 'opt_int',
    'opt_float')."""

    name: str
    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """A representative call used by the catalogue-wide tests: input shapes and attributes."""

    shapes: tuple[Shape | None, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)


GradFnName = str | Callable[[Shapes, Mapping[str, Any]], str] | None


@dataclass(frozen=True)
class OpSpec:
    name: str
    inputs: tuple[Input, ...]
    shape_rule: Callable[[str, Shapes, dict[str, Any]], Shape]
    grad_fn: GradFnName
    cases: tuple[Case, ...]
    attrs: tuple[Attr, ...] = ()
    kink: str = ""
    doc: str = ""

    def grad_fn_name(self, shapes: Shapes, attrs: Mapping[str, Any]) -> str | None:
        return self.grad_fn(shapes, attrs) if callable(self.grad_fn) else self.grad_fn

    def input_specs(self, count: int) -> tuple[Input, ...]:
        """One Input per given tensor: a variadic last input repeated to ``count`` inputs."""
        if self.inputs and self.inputs[-1].variadic and count > len(self.inputs):
            return self.inputs + (self.inputs[-1],) * (count - len(self.inputs))
        return self.inputs

    def defaults(self) -> dict[str, Any]:
        return {a.name: a.default for a in self.attrs}

    def out_shape(self, shapes: Shapes, attrs: dict[str, Any]) -> Shape:
        return self.shape_rule(self.name, shapes, attrs)


def _x(domain: str = REAL) -> tuple[Input, ...]:
    return (Input("input", domain),)


def _xy(da: str = REAL, db: str = REAL) -> tuple[Input, ...]:
    return (Input("input", da), Input("other", db))


BINARY_CASES = (Case(((2, 3), (2, 3))), Case(((2, 3), (3,))), Case(((4, 1), (1, 3))), Case(((), (2,))))
UNARY_CASES: tuple[Case, ...] = (Case(((2, 3),)), Case(((5,),)), Case(((),)))
PIECES = ("slice", "split", "split_with_sizes")  # a slice node made by indexing, split(int)/chunk, split(sizes)


def _slice_name(shapes: Shapes, attrs: Mapping[str, Any]) -> str:
    """torch's grad_fn of a split or chunk piece names the split, not a slice."""
    return {"split": "SplitBackward0", "split_with_sizes": "SplitWithSizesBackward0"}.get(
        attrs.get("piece", "slice"), "SliceBackward0")


REDUCTION = "choice"
REDUCTIONS = ("none", "mean", "sum")


def _elementwise(name: str, grad_fn: str, domain: str = REAL, kink: str = "", doc: str = "") -> OpSpec:
    return OpSpec(name, _x(domain), S.same, grad_fn, UNARY_CASES, kink=kink, doc=doc)


def _binary(name: str, grad_fn: str, db: str = REAL, kink: str = "", doc: str = "") -> OpSpec:
    return OpSpec(name, _xy(REAL, db), S.binary, grad_fn, BINARY_CASES, kink=kink, doc=doc)


def _matmul_name(shapes: Shapes, attrs: Mapping[str, Any]) -> str:
    ranks = (len(shapes[0]), len(shapes[1]))
    named = {(1, 1): "DotBackward0", (2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}
    if ranks in named:
        return named[ranks]
    return "UnsafeViewBackward0" if ranks[0] >= 3 else "CloneBackward0"


def _reduce_name(stem: str) -> Callable[[Shapes, Mapping[str, Any]], str]:
    return lambda shapes, attrs: f"{stem}Backward{0 if attrs.get('dim') is None else 1}"


def _linear_name(shapes: Shapes, attrs: Mapping[str, Any]) -> str:
    """torch 2.13's names: addmm/mm for 2-d input; with a bias a view otherwise, without one the
    squeeze (1-d input) or unsafe view (batched input) of a matmul."""
    has_bias = len(shapes) > 2 and shapes[2] is not None
    if len(shapes[0]) == 2:
        return "AddmmBackward0" if has_bias else "MmBackward0"
    if has_bias:
        return "ViewBackward0"
    return "SqueezeBackward4" if len(shapes[0]) == 1 else "UnsafeViewBackward0"


def _ce_name(shapes: Shapes, attrs: Mapping[str, Any]) -> str:
    return "AddBackward0" if attrs.get("label_smoothing") else "NllLossBackward0"


_SPECS: tuple[OpSpec, ...] = (
    _binary("add", "AddBackward0", doc="input + other, broadcasting"),
    _binary("sub", "SubBackward0", doc="input - other, broadcasting"),
    _binary("mul", "MulBackward0", doc="input * other, broadcasting"),
    _binary("div", "DivBackward0", db=NONZERO, doc="input / other, broadcasting"),
    _binary(
        "maximum", "MaximumBackward0",
        kink="tie input == other: the gradient is split 1/2 to each side",
        doc="elementwise max",
    ),
    _binary(
        "minimum", "MinimumBackward0",
        kink="tie input == other: the gradient is split 1/2 to each side",
        doc="elementwise min",
    ),
    OpSpec(
        "pow_tensor", _xy(POSITIVE, REAL), S.binary, "PowBackward1", BINARY_CASES,
        doc="input ** other with a tensor exponent",
    ),
    OpSpec(
        "pow", _x(POSITIVE), S.same, "PowBackward0", (Case(((2, 3),), {"exponent": 3.0}),
        Case(((4,),), {"exponent": 0.5}), Case(((2, 2),), {"exponent": -2.0})),
        attrs=(Attr("exponent", "float", 2.0),), doc="input ** exponent, exponent a number",
    ),
    _elementwise("neg", "NegBackward0", doc="-input"),
    _elementwise("exp", "ExpBackward0", doc="e ** input"),
    _elementwise("log", "LogBackward0", POSITIVE, doc="natural logarithm"),
    _elementwise("sqrt", "SqrtBackward0", POSITIVE, doc="square root"),
    _elementwise("tanh", "TanhBackward0"),
    _elementwise("sigmoid", "SigmoidBackward0", doc="1 / (1 + exp(-input))"),
    _elementwise("relu", "ReluBackward0", kink="relu'(0) = 0 (PyTorch)", doc="max(input, 0)"),
    _elementwise("abs", "AbsBackward0", kink="abs'(0) = 0 (PyTorch)", doc="|input|"),
    OpSpec(
        "softplus", _x(), S.same, "SoftplusBackward0", UNARY_CASES + (Case(((3,),), {"beta": 2.0}),),
        attrs=(Attr("beta", "float", 1.0), Attr("threshold", "float", 20.0)),
        doc="log(1 + exp(beta * input)) / beta; input itself where beta * input > threshold",
    ),
    OpSpec(
        "matmul", _xy(), S.matmul, _matmul_name,
        (Case(((5,), (5,))), Case(((5,), (5, 3))), Case(((2, 5), (5,))), Case(((2, 5), (5, 3))),
         Case(((4, 2, 5), (4, 5, 3))), Case(((4, 2, 5), (5, 3))), Case(((2, 5), (4, 5, 3)))),
        doc="torch.matmul: dot, mv, mm and batched with broadcast batch dims",
    ),
    OpSpec(
        "sum", _x(), S.reduction, _reduce_name("Sum"),
        (Case(((2, 3),)), Case(((2, 3),), {"dim": 1}), Case(((2, 3, 4),), {"dim": (0, 2), "keepdim": True})),
        attrs=(Attr("dim", "dims"), Attr("keepdim", "bool", False)),
    ),
    OpSpec(
        "mean", _x(), S.reduction, _reduce_name("Mean"),
        (Case(((2, 3),)), Case(((2, 3),), {"dim": 0}), Case(((2, 3, 4),), {"dim": -1, "keepdim": True})),
        attrs=(Attr("dim", "dims"), Attr("keepdim", "bool", False)),
    ),
    OpSpec(
        "reshape", _x(), S.reshape, "ViewBackward0",
        (Case(((2, 3),), {"shape": (3, 2)}), Case(((2, 3),), {"shape": (-1,)})),
        attrs=(Attr("shape", "shape", ()),), doc="reshape/view (same elements, row-major)",
    ),
    OpSpec(
        "flatten", _x(), S.flatten, "ViewBackward0",
        (Case(((2, 3, 4),), {"start_dim": 1}), Case(((2, 3),))),
        attrs=(Attr("start_dim", "int", 0), Attr("end_dim", "int", -1)),
    ),
    OpSpec(
        "transpose", _x(), S.transpose, "TransposeBackward0",
        (Case(((2, 3),), {"dim0": 0, "dim1": 1}), Case(((2, 3, 4),), {"dim0": -1, "dim1": 0})),
        attrs=(Attr("dim0", "int", 0), Attr("dim1", "int", 1)),
    ),
    OpSpec(
        "permute", _x(), S.permute, "PermuteBackward0",
        (Case(((2, 3),), {"dims": (1, 0)}), Case(((2, 3, 4),), {"dims": (2, 0, 1)})),
        attrs=(Attr("dims", "shape", ()),), doc="reorder dims; Tensor.T is permute(reversed)",
    ),
    OpSpec(
        "select", _x(), S.select, "SelectBackward0",
        (Case(((3, 4),), {"dim": 0, "index": 1}), Case(((3, 4),), {"dim": 1, "index": -1})),
        attrs=(Attr("dim", "int", 0), Attr("index", "int", 0)), doc="x[..., index, ...]",
    ),
    OpSpec(
        "slice", _x(), S.slice_, _slice_name,
        (Case(((6, 2),), {"dim": 0, "start": 1, "stop": 5, "step": 2}),
         Case(((3, 4),), {"dim": 1, "stop": 2})),
        attrs=(Attr("dim", "int", 0), Attr("start", "opt_int"), Attr("stop", "opt_int"),
               Attr("step", "int", 1), Attr("piece", "choice", "slice", PIECES)),
        doc="x[..., start:stop:step, ...]; piece: which torch call made it (split/chunk pieces are slices)",
    ),
    OpSpec(
        "softmax", _x(), S.softmax_like, "SoftmaxBackward0",
        (Case(((2, 5),), {"dim": 1}), Case(((3, 4),), {"dim": 0})), attrs=(Attr("dim", "int", -1),),
    ),
    OpSpec(
        "log_softmax", _x(), S.softmax_like, "LogSoftmaxBackward0",
        (Case(((2, 5),), {"dim": 1}), Case(((3, 4),), {"dim": 0})), attrs=(Attr("dim", "int", -1),),
    ),
    OpSpec(
        "linear", (Input("input"), Input("weight"), Input("bias", optional=True)), S.linear, _linear_name,
        (Case(((4, 3), (2, 3), (2,))), Case(((4, 3), (2, 3), None)), Case(((3,), (2, 3), (2,))),
         Case(((2, 4, 3), (2, 3), (2,)))),
        doc="input @ weight.T + bias",
    ),
    OpSpec(
        "binary_cross_entropy_with_logits",
        (Input("input"), Input("target", UNIT), Input("weight", WEIGHT, True, False),
         Input("pos_weight", WEIGHT, True, False)),
        S.pointwise_loss, "BinaryCrossEntropyWithLogitsBackward0",
        (Case(((5, 3), (5, 3), None, None)), Case(((3,), (3,), None, None), {"reduction": "sum"}),
         Case(((4, 3), (4, 3), (3,), (3,))), Case(((4, 3), (4, 3), (4, 1), None), {"reduction": "none"})),
        attrs=(Attr("reduction", REDUCTION, "mean", REDUCTIONS),),
        doc="-w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], p = pos_weight",
    ),
    OpSpec(
        "cross_entropy",
        (Input("input"), Input("target", CLASS, False, False), Input("weight", WEIGHT, True, False)),
        S.cross_entropy, _ce_name,
        (Case(((4, 5), (4,), None)), Case(((5,), (), None)), Case(((4, 5), (4,), (5,))),
         Case(((4, 5), (4,), None), {"label_smoothing": 0.1}),
         Case(((4, 5), (4,), (5,)), {"label_smoothing": 0.2, "reduction": "sum"}),
         Case(((4, 5), (4,), None), {"reduction": "none", "ignore_index": 1})),
        attrs=(Attr("ignore_index", "int", -100), Attr("reduction", REDUCTION, "mean", REDUCTIONS),
               Attr("label_smoothing", "float", 0.0)),
        doc="log_softmax + nll_loss with class-index targets (weight, ignore_index, label_smoothing)",
    ),
    OpSpec(
        "mse_loss", (Input("input"), Input("target")), S.mse, "MseLossBackward0",
        (Case(((2, 3), (2, 3))), Case(((4,), (4,)), {"reduction": "sum"}),
         Case(((2, 3), (2, 3)), {"reduction": "none"})),
        attrs=(Attr("reduction", REDUCTION, "mean", REDUCTIONS),),
    ),
    OpSpec(
        "detach", _x(), S.same, None, UNARY_CASES,
        doc="same values, no gradient flows back (a constant for everything downstream)",
    ),
)

from .conv_specs import CONV_SPECS  # noqa: E402,I001  (the families need the classes above)
from .ops_elementwise import ELEMENTWISE_SPECS  # noqa: E402
from .pool_specs import POOL_SPECS  # noqa: E402
from .resample_specs import RESAMPLE_SPECS  # noqa: E402
from .loss_specs import LOSS_SPECS  # noqa: E402
from .nn_specs import NN_SPECS  # noqa: E402
from .shape_specs import SHAPE_SPECS  # noqa: E402 (the block needs the classes above)

_SPECS += ELEMENTWISE_SPECS + CONV_SPECS + POOL_SPECS + RESAMPLE_SPECS + SHAPE_SPECS + NN_SPECS + LOSS_SPECS

CATALOGUE: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}


def register(specs: Sequence[OpSpec]) -> None:
    """Add a family of entries defined in its own module (they build on this module's helpers)."""
    CATALOGUE.update({spec.name: spec for spec in specs})


def get(name: str) -> OpSpec:
    """The spec for ``name``, or :class:`UnknownOpError`."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownOpError(name) from None


def resolve_attrs(spec: OpSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with ``given``, rejecting names the op does not have."""
    attrs = spec.defaults()
    for name, value in given.items():
        if name not in attrs:
            raise AttributeSpecError(spec.name, name, "no such attribute")
        attrs[name] = value
    for attr in spec.attrs:
        if attr.choices and attrs[attr.name] not in attr.choices:
            raise AttributeSpecError(spec.name, attr.name, f"must be one of {list(attr.choices)}")
    return attrs


from .ops_reductions import REDUCTION_SPECS  # noqa: E402  (it imports this module's helpers)

register(REDUCTION_SPECS)

from .scatter_specs import SCATTER_SPECS  # noqa: E402

register(SCATTER_SPECS)

from .cast_specs import CAST_SPECS  # noqa: E402

register(CAST_SPECS)

from .everyday_specs import EVERYDAY_SPECS  # noqa: E402 (cumprod, atan2, hardswish, hardsigmoid, mish)

register(EVERYDAY_SPECS)
