"""ATen ops -> catalogue ops: one table line per ATen overload.

Each rule gets the :class:`Emit` context, the node's arguments (node names for tensors,
Python values otherwise) and keyword arguments, and returns the name of the node that holds
the result (or a tuple of names for a multi-output op). ``_RULES`` lists the catalogue ops a
rule needs; a rule whose op is not in the catalogue is skipped, so PyTorch's decomposition
of that ATen op is used instead (see capture.py). Adding an op is one line here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

from crossgrad.engine import ops

REDUCTIONS = ("none", "mean", "sum")  # ATen's reduction enum: 0, 1, 2
BIG = 2**62  # ATen's "to the end" slice bound is 2**63 - 1


class Emit(Protocol):
    def op(self, op: str, inputs: list[Any], **attrs: Any) -> str: ...
    def const(self, value: Any, like: str, shape: tuple[int, ...] = ()) -> str: ...
    def shape(self, name: str) -> tuple[int, ...]: ...
    def out_shape(self) -> tuple[int, ...]: ...


Rule = Callable[[Emit, tuple, dict], Any]


def arg(a: tuple, k: dict, i: int, name: str, default: Any = None) -> Any:
    """Argument ``i`` (or keyword ``name``) of an ATen call, else ``default``."""
    return a[i] if len(a) > i else k.get(name, default)


def _unary(op: str, **attrs: Any) -> Rule:
    return lambda e, a, k: e.op(op, [a[0]], **attrs)


def _tensor(e: Emit, value: Any, like: str) -> str:
    return value if isinstance(value, str) else e.const(value, like)


def _binary(op: str) -> Rule:
    """op(a, b) where either side may be a Python number."""
    def rule(e: Emit, a: tuple, k: dict) -> str:
        x, y = a[0], a[1]
        like = x if isinstance(x, str) else y
        return e.op(op, [_tensor(e, x, like), _tensor(e, y, like)])
    return rule


def _alpha(op: str) -> Rule:
    """add/sub with ``alpha``: a op alpha * b."""
    def rule(e: Emit, a: tuple, k: dict) -> str:
        alpha = k.get("alpha", a[2] if len(a) > 2 else 1)
        other = a[1] if alpha == 1 else _binary("mul")(e, (a[1], alpha), {})
        return _binary(op)(e, (a[0], other), {})
    return rule


def _reduce(op: str) -> Rule:
    def rule(e: Emit, a: tuple, k: dict) -> str:
        dims = a[1] if len(a) > 1 else k.get("dim")
        keepdim = a[2] if len(a) > 2 else k.get("keepdim", False)
        dims = None if dims is None or list(dims) == [] else tuple(dims)
        return e.op(op, [a[0]], dim=dims, keepdim=bool(keepdim))
    return rule


def _reshape(e: Emit, a: tuple, k: dict) -> str:
    return e.op("reshape", [a[0]], shape=tuple(e.out_shape()))


def _transpose_2d(e: Emit, a: tuple, k: dict) -> str:
    return a[0] if len(e.shape(a[0])) < 2 else e.op("transpose", [a[0]], dim0=0, dim1=1)


def _slice(e: Emit, a: tuple, k: dict) -> str:
    dim, start, stop, step = (list(a[1:]) + [0, None, None, 1][len(a) - 1:])[:4]
    stop = None if stop is not None and stop >= BIG else stop
    return e.op("slice", [a[0]], dim=dim, start=start, stop=stop, step=step)


def _addmm(e: Emit, a: tuple, k: dict) -> str:
    """beta * bias + alpha * (x @ w)."""
    product = e.op("matmul", [a[1], a[2]])
    if k.get("alpha", 1) != 1:
        product = _binary("mul")(e, (product, k["alpha"]), {})
    bias = a[0] if k.get("beta", 1) == 1 else _binary("mul")(e, (a[0], k["beta"]), {})
    return e.op("add", [bias, product])


def _softmax(op: str) -> Rule:
    return lambda e, a, k: e.op(op, [a[0]], dim=a[1])


def _expand(e: Emit, a: tuple, k: dict) -> str:
    """expand(x, shape) = x + zeros(shape): the broadcast gradient sums back."""
    return e.op("add", [a[0], e.const(0.0, a[0], e.out_shape())]) if e.shape(a[0]) != e.out_shape() else a[0]


def _bce(e: Emit, a: tuple, k: dict) -> str:
    weight, pos_weight = (list(a[2:4]) + [None, None])[:2]
    reduction = REDUCTIONS[a[4] if len(a) > 4 else k.get("reduction", 1)]
    return e.op("binary_cross_entropy_with_logits", [a[0], a[1], k.get("weight", weight),
                                                      k.get("pos_weight", pos_weight)], reduction=reduction)


def _cross_entropy(e: Emit, a: tuple, k: dict) -> str:
    weight, reduction, ignore, smoothing = (list(a[2:6]) + [None, 1, -100, 0.0][len(a) - 2:])[:4]
    return e.op("cross_entropy", [a[0], a[1], weight], reduction=REDUCTIONS[reduction], ignore_index=ignore,
                label_smoothing=float(smoothing))


def _mse(e: Emit, a: tuple, k: dict) -> str:
    return e.op("mse_loss", [a[0], a[1]], reduction=REDUCTIONS[a[2] if len(a) > 2 else k.get("reduction", 1)])


def _var(e: Emit, x: str, dims: Any, correction: float, keepdim: bool) -> str:
    """sum((x - mean(x))**2) / (N - correction) over ``dims`` (all when None or [])."""
    shape = e.shape(x)
    dims = tuple(range(len(shape))) if not dims else tuple(d % len(shape) for d in dims)
    count = math.prod(shape[d] for d in dims) - correction
    centred = e.op("sub", [x, e.op("mean", [x], dim=dims, keepdim=True)])
    total = e.op("sum", [e.op("pow", [centred], exponent=2.0)], dim=dims, keepdim=keepdim)
    return e.op("div", [total, e.const(float(count), x)])


def _var_correction(e: Emit, a: tuple, k: dict) -> str:
    correction = k.get("correction")
    return _var(e, a[0], a[1] if len(a) > 1 else k.get("dim"), 1.0 if correction is None else float(correction),
                bool(k.get("keepdim", False)))


def _var_mean(e: Emit, a: tuple, k: dict) -> tuple[str, str]:
    dims, keepdim = a[1] if len(a) > 1 else k.get("dim"), bool(k.get("keepdim", False))
    mean_dims = None if not dims else tuple(dims)
    return _var_correction(e, a, k), e.op("mean", [a[0]], dim=mean_dims, keepdim=keepdim)


def _clamp(e: Emit, a: tuple, k: dict) -> str:
    """clamp(x, min, max) = minimum(maximum(x, min), max); ties with a bound are kinks."""
    out, low, high = a[0], arg(a, k, 1, "min"), arg(a, k, 2, "max")
    if low is not None:
        out = _binary("maximum")(e, (out, low), {})
    return out if high is None else _binary("minimum")(e, (out, high), {})


def _identity(e: Emit, a: tuple, k: dict) -> str:
    return a[0]


def _dropout(e: Emit, a: tuple, k: dict) -> str:
    if a[1] != 0 and a[2]:
        raise NotImplementedError("dropout in training mode (its mask is random): call module.eval()")
    return a[0]


VAR = ("sub", "mean", "pow", "sum", "div")

# ATen overload -> (the catalogue ops it needs, the rule)
_RULES: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.add.Tensor": (("add", "mul"), _alpha("add")),
    "aten.add.Scalar": (("add", "mul"), _alpha("add")),
    "aten.sub.Tensor": (("sub", "mul"), _alpha("sub")),
    "aten.sub.Scalar": (("sub", "mul"), _alpha("sub")),
    "aten.rsub.Scalar": (("sub",), lambda e, a, k: _binary("sub")(e, (a[1], a[0]), {})),
    "aten.mul.Tensor": (("mul",), _binary("mul")),
    "aten.mul.Scalar": (("mul",), _binary("mul")),
    "aten.div.Tensor": (("div",), _binary("div")),
    "aten.div.Scalar": (("div",), _binary("div")),
    "aten.maximum.default": (("maximum",), _binary("maximum")),
    "aten.minimum.default": (("minimum",), _binary("minimum")),
    "aten.clamp.default": (("maximum", "minimum"), _clamp),
    "aten.clamp.Tensor": (("maximum", "minimum"), _clamp),
    "aten.clamp_min.default": (("maximum",), _binary("maximum")),
    "aten.clamp_max.default": (("minimum",), _binary("minimum")),
    "aten.pow.Tensor_Scalar": (("pow",), lambda e, a, k: e.op("pow", [a[0]], exponent=float(a[1]))),
    "aten.pow.Tensor_Tensor": (("pow_tensor",), _binary("pow_tensor")),
    "aten.pow.Scalar": (("pow_tensor",), _binary("pow_tensor")),
    "aten.square.default": (("pow",), _unary("pow", exponent=2.0)),
    "aten.rsqrt.default": (("pow",), _unary("pow", exponent=-0.5)),
    "aten.reciprocal.default": (("div",), lambda e, a, k: e.op("div", [e.const(1.0, a[0]), a[0]])),
    "aten.neg.default": (("neg",), _unary("neg")),
    "aten.exp.default": (("exp",), _unary("exp")),
    "aten.log.default": (("log",), _unary("log")),
    "aten.sqrt.default": (("sqrt",), _unary("sqrt")),
    "aten.tanh.default": (("tanh",), _unary("tanh")),
    "aten.sigmoid.default": (("sigmoid",), _unary("sigmoid")),
    "aten.relu.default": (("relu",), _unary("relu")),
    "aten.abs.default": (("abs",), _unary("abs")),
    "aten.softplus.default": (("softplus",), lambda e, a, k: e.op(
        "softplus", [a[0]], beta=float(arg(a, k, 1, "beta", 1)), threshold=float(arg(a, k, 2, "threshold", 20)))),
    "aten.matmul.default": (("matmul",), _binary("matmul")),
    "aten.mm.default": (("matmul",), _binary("matmul")),
    "aten.bmm.default": (("matmul",), _binary("matmul")),
    "aten.mv.default": (("matmul",), _binary("matmul")),
    "aten.dot.default": (("matmul",), _binary("matmul")),
    "aten.addmm.default": (("matmul", "add", "mul"), _addmm),
    "aten.linear.default": (("linear",), lambda e, a, k: e.op("linear", [a[0], a[1], arg(a, k, 2, "bias")])),
    "aten.sum.default": (("sum",), _reduce("sum")),
    "aten.sum.dim_IntList": (("sum",), _reduce("sum")),
    "aten.mean.default": (("mean",), _reduce("mean")),
    "aten.mean.dim": (("mean",), _reduce("mean")),
    "aten.view.default": (("reshape",), _reshape),
    "aten.reshape.default": (("reshape",), _reshape),
    "aten._unsafe_view.default": (("reshape",), _reshape),
    "aten.unsqueeze.default": (("reshape",), _reshape),
    "aten.squeeze.dim": (("reshape",), _reshape),
    "aten.squeeze.dims": (("reshape",), _reshape),
    "aten.squeeze.default": (("reshape",), _reshape),
    "aten.flatten.using_ints": (("flatten",), lambda e, a, k: e.op(
        "flatten", [a[0]], start_dim=arg(a, k, 1, "start_dim", 0), end_dim=arg(a, k, 2, "end_dim", -1))),
    "aten.t.default": (("transpose",), _transpose_2d),
    "aten.numpy_T.default": (("permute",), lambda e, a, k: e.op(
        "permute", [a[0]], dims=tuple(reversed(range(len(e.shape(a[0]))))))),
    "aten.transpose.int": (("transpose",), lambda e, a, k: e.op("transpose", [a[0]], dim0=a[1], dim1=a[2])),
    "aten.permute.default": (("permute",), lambda e, a, k: e.op("permute", [a[0]], dims=tuple(a[1]))),
    "aten.expand.default": (("add",), _expand),
    "aten.select.int": (("select",), lambda e, a, k: e.op("select", [a[0]], dim=a[1], index=a[2])),
    "aten.slice.Tensor": (("slice",), _slice),
    "aten.softmax.int": (("softmax",), _softmax("softmax")),
    "aten._softmax.default": (("softmax",), _softmax("softmax")),
    "aten.log_softmax.int": (("log_softmax",), _softmax("log_softmax")),
    "aten._log_softmax.default": (("log_softmax",), _softmax("log_softmax")),
    "aten.binary_cross_entropy_with_logits.default": (("binary_cross_entropy_with_logits",), _bce),
    "aten.cross_entropy_loss.default": (("cross_entropy",), _cross_entropy),
    "aten.mse_loss.default": (("mse_loss",), _mse),
    "aten.var.correction": (VAR, _var_correction),
    "aten.var_mean.correction": (VAR, _var_mean),
    "prims.var.default": (VAR, lambda e, a, k: _var(e, a[0], a[1], float(a[2]), False)),
    "aten.detach.default": (("detach",), _unary("detach")),
    "aten.clone.default": ((), _identity),
    "aten.contiguous.default": ((), _identity),
    "aten.alias.default": ((), _identity),
    "aten.dropout.default": ((), _dropout),
}


def rule(target: str) -> Rule | None:
    """The rule for an ATen overload, if every catalogue op it needs exists."""
    needs, found = _RULES.get(target, ((), None))
    return found if found is not None and all(op in ops.CATALOGUE for op in needs) else None
