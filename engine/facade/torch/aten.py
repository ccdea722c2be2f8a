"""ATen ops -> catalogue ops: one table line per ATen overload.

Each rule gets the :class:`Emit` context, the node's arguments (node names for tensors,
Python values otherwise) and keyword arguments, and returns the name of the node that holds
the result (or a tuple of names for a multi-output op, None for an output with no catalogue
op), or None to decline (the op is then decomposed as if it had no rule). ``_RULES`` lists the catalogue ops a
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
    def mask(self) -> str: ...
    def leaf(self, stem: str, value: Any, requires_grad: bool) -> str: ...


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


def _slices(e: Emit, x: str, sizes: list[int], dim: int) -> tuple[str, ...]:
    """split/chunk as one slice node per piece (the IR has no multi-output node)."""
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(e.op("slice", [x], dim=dim, start=a, stop=a + n, step=1) for a, n in zip(starts, sizes))


def _split(e: Emit, a: tuple, k: dict) -> tuple[str, ...]:
    dim = arg(a, k, 2, "dim", 0)
    length, size = e.shape(a[0])[dim], a[1]
    return _slices(e, a[0], [min(size, length - i) for i in range(0, length, size)], dim)


def _chunk(e: Emit, a: tuple, k: dict) -> tuple[str, ...]:
    dim = arg(a, k, 2, "dim", 0)
    length = e.shape(a[0])[dim]
    return _split(e, (a[0], -(-length // a[1]), dim), {})


def _unbind(e: Emit, a: tuple, k: dict) -> tuple[str, ...]:
    dim = arg(a, k, 1, "dim", 0)
    return tuple(e.op("select", [a[0]], dim=dim, index=i) for i in range(e.shape(a[0])[dim]))


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
    "aten.split.Tensor": (("slice",), _split),
    "aten.split_with_sizes.default": (("slice",), lambda e, a, k: _slices(e, a[0], list(a[1]), arg(a, k, 2, "dim", 0))),
    "aten.chunk.default": (("slice",), _chunk),
    "aten.unbind.int": (("select",), _unbind),
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


def _scalar_bounds(e: Emit, a: tuple, k: dict) -> str:
    """clamp with number bounds is the catalogue's clamp (gradient passes at a bound, as torch)."""
    low, high = arg(a, k, 1, "min"), arg(a, k, 2, "max")
    if isinstance(low, str) or isinstance(high, str):
        return _clamp(e, a, k)
    return e.op("clamp", [a[0]], min=None if low is None else float(low), max=None if high is None else float(high))


def _where(e: Emit, a: tuple, k: dict) -> str:
    like = a[1] if isinstance(a[1], str) else a[2]
    return e.op("where", [a[0], _tensor(e, a[1], like), _tensor(e, a[2], like)])


def _reduce_to(op: str, dim_at: int = 1, keep_at: int = 2) -> Rule:
    def rule(e: Emit, a: tuple, k: dict) -> str:
        dims = arg(a, k, dim_at, "dim")
        dims = None if dims is None or (isinstance(dims, (list, tuple)) and not dims) else \
            (dims if isinstance(dims, int) else tuple(dims))
        return e.op(op, [a[0]], dim=dims, keepdim=bool(arg(a, k, keep_at, "keepdim", False)))
    return rule


def _var_op(op: str) -> Rule:
    def rule(e: Emit, a: tuple, k: dict) -> str:
        dims, correction = arg(a, k, 1, "dim"), k.get("correction")
        return e.op(op, [a[0]], dim=None if not dims else tuple(dims),
                    correction=1.0 if correction is None else float(correction), keepdim=bool(k.get("keepdim", False)))
    return rule


def _norm(e: Emit, a: tuple, k: dict) -> str:
    dims = arg(a, k, 2, "dim")
    return e.op("norm", [a[0]], p=float(arg(a, k, 1, "ord", 2)), dim=None if not dims else tuple(dims),
                keepdim=bool(arg(a, k, 3, "keepdim", False)))


def _dim_values(op: str) -> Rule:
    """max/min(dim): the values op; the indices output has no catalogue op yet (None: refused if read)."""
    return lambda e, a, k: (e.op(op, [a[0]], dim=a[1], keepdim=bool(arg(a, k, 2, "keepdim", False))), None)


def _elu(e: Emit, a: tuple, k: dict) -> str | None:
    """scale * elu(x, alpha) (selu's form); an input_scale other than 1 declines."""
    if arg(a, k, 3, "input_scale", 1) != 1:
        return None
    out = e.op("elu", [a[0]], alpha=float(arg(a, k, 1, "alpha", 1.0)))
    scale = arg(a, k, 2, "scale", 1)
    return out if scale == 1 else _binary("mul")(e, (out, float(scale)), {})


def _ints(value: Any, n: int) -> tuple[int, ...]:
    """An ATen int-list argument (an int stands for n copies) as a tuple."""
    return (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)


def _conv(op: str, n: int) -> Rule:
    def rule(e: Emit, a: tuple, k: dict) -> str | None:
        padding = arg(a, k, 4, "padding", 0)
        if isinstance(padding, str):  # padding='same'/'valid': the aten.conv2d.padding overload
            return None
        return e.op(op, [a[0], a[1], arg(a, k, 2, "bias")], stride=_ints(arg(a, k, 3, "stride", 1), n),
                    padding=_ints(padding, n), dilation=_ints(arg(a, k, 5, "dilation", 1), n),
                    groups=int(arg(a, k, 6, "groups", 1)))
    return rule


def _max_pool(e: Emit, a: tuple, k: dict) -> str:
    return e.op("max_pool2d", [a[0]], kernel_size=_ints(a[1], 2), stride=_ints(arg(a, k, 2, "stride", []), 2),
                padding=_ints(arg(a, k, 3, "padding", 0), 2), dilation=_ints(arg(a, k, 4, "dilation", 1), 2),
                ceil_mode=bool(arg(a, k, 5, "ceil_mode", False)))


def _avg_pool(e: Emit, a: tuple, k: dict) -> str:
    return e.op("avg_pool2d", [a[0]], kernel_size=_ints(a[1], 2), stride=_ints(arg(a, k, 2, "stride", []), 2),
                padding=_ints(arg(a, k, 3, "padding", 0), 2), ceil_mode=bool(arg(a, k, 4, "ceil_mode", False)),
                count_include_pad=bool(arg(a, k, 5, "count_include_pad", True)),
                divisor_override=arg(a, k, 6, "divisor_override"))


def _batch_norm(e: Emit, a: tuple, k: dict) -> str:
    """aten.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)."""
    return e.op("batch_norm", [a[0], a[3], a[4], a[1], a[2]], training=bool(a[5]), momentum=float(a[6]),
                eps=float(a[7]))


# Rules onto catalogue ops added later: tried first, so a composite rule below stays the fallback.
_DIRECT: dict[str, tuple[tuple[str, ...], Rule]] = {
    **{f"aten.{name}.default": ((name,), _unary(name)) for name in
       ("sin", "cos", "erf", "log1p", "expm1", "reciprocal", "rsqrt", "square", "silu")},
    "aten.gelu.default": (("gelu",), lambda e, a, k: e.op("gelu", [a[0]], approximate=arg(a, k, 1, "approximate",
                                                                                           "none"))),
    "aten.leaky_relu.default": (("leaky_relu",), lambda e, a, k: e.op(
        "leaky_relu", [a[0]], negative_slope=float(arg(a, k, 1, "negative_slope", 0.01)))),
    "aten.elu.default": (("elu", "mul"), _elu),
    "aten.hardtanh.default": (("hardtanh",), lambda e, a, k: e.op(
        "hardtanh", [a[0]], min_val=float(arg(a, k, 1, "min_val", -1.0)), max_val=float(arg(a, k, 2, "max_val", 1.0)))),
    "aten.clamp.default": (("clamp", "maximum", "minimum"), _scalar_bounds),
    "aten.clamp_min.default": (("clamp", "maximum"), lambda e, a, k: _scalar_bounds(e, (a[0], a[1], None), {})),
    "aten.clamp_max.default": (("clamp", "minimum"), lambda e, a, k: _scalar_bounds(e, (a[0], None, a[1]), {})),
    "aten.where.self": (("where",), _where),
    "aten.where.ScalarOther": (("where",), _where),
    "aten.where.ScalarSelf": (("where",), _where),
    "aten.masked_fill.Scalar": (("where",), lambda e, a, k: _where(e, (a[1], a[2], a[0]), {})),
    "aten.logsumexp.default": (("logsumexp",), _reduce_to("logsumexp")),
    "aten.amax.default": (("amax",), _reduce_to("amax")),
    "aten.amin.default": (("amin",), _reduce_to("amin")),
    "aten.max.default": (("max_all",), _unary("max_all")),
    "aten.min.default": (("min_all",), _unary("min_all")),
    "aten.max.dim": (("max_dim",), _dim_values("max_dim")),
    "aten.min.dim": (("min_dim",), _dim_values("min_dim")),
    "aten.var.correction": (("var",), _var_op("var")),
    "aten.var_mean.correction": (("var", "mean"), lambda e, a, k: (
        _var_op("var")(e, a, k), _reduce_to("mean", 1, 99)(e, (a[0], arg(a, k, 1, "dim")), k))),
    "aten.std.correction": (("std",), _var_op("std")),
    "aten.linalg_vector_norm.default": (("norm",), _norm),
    "aten.prod.default": (("prod",), _unary("prod")),
    "aten.prod.dim_int": (("prod",), _reduce_to("prod")),
    "aten.conv1d.default": (("conv1d",), _conv("conv1d", 1)),
    "aten.conv2d.default": (("conv2d",), _conv("conv2d", 2)),
    "aten.max_pool2d.default": (("max_pool2d",), _max_pool),
    "aten.avg_pool2d.default": (("avg_pool2d",), _avg_pool),
    "aten.adaptive_avg_pool2d.default": (("adaptive_avg_pool2d",), lambda e, a, k: e.op(
        "adaptive_avg_pool2d", [a[0]], output_size=_ints(a[1], 2))),
    "aten.batch_norm.default": (("batch_norm",), _batch_norm),
    "aten.cumsum.default": (("cumsum",), lambda e, a, k: e.op("cumsum", [a[0]], dim=arg(a, k, 1, "dim"))),
}


def rule(target: str) -> Rule | None:
    """The rule for an ATen overload, if every catalogue op it needs exists."""
    from .aten_chains import CHAINS
    from .aten_conform import CONFORM
    from .aten_extra import EXTRA
    from .aten_more import MORE
    from .aten_opsb import OPSB
    from .aten_parity import PARITY

    for table in (CONFORM, PARITY, OPSB, CHAINS, MORE, EXTRA, _DIRECT, _RULES):
        needs, found = table.get(target, ((), None))
        if found is not None and all(op in ops.CATALOGUE for op in needs):
            return found
    return None
