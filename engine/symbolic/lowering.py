"""The SymPy lowering of every catalogue op's *forward* definition. No derivative is written here:
derivatives come only from ``sympy.diff`` of these templates (see exact.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .. import shapes as S
from .templates import (
    Group,
    Stage,
    args,
    elementwise,
    gather_only,
    grid,
    reduce_rows,
    rotated_rows,
    rows_last,
)
from .templates import exact_number as _num

Shapes = Sequence[Any]


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _softplus(at: dict) -> Callable[[sp.Expr], sp.Expr]:
    beta, threshold = _num(at["beta"]), _num(at["threshold"])
    return lambda x: sp.Piecewise((x, beta * x > threshold), (sp.log(1 + sp.exp(beta * x)) / beta, True))


UNARY: dict[str, Callable[[dict], Callable[[sp.Expr], sp.Expr]]] = {
    "neg": lambda at: lambda a: -a,
    "exp": lambda at: sp.exp,
    "log": lambda at: sp.log,
    "sqrt": lambda at: sp.sqrt,
    "tanh": lambda at: sp.tanh,
    "sigmoid": lambda at: _sigmoid,
    "relu": lambda at: lambda a: sp.Max(a, 0),
    "abs": lambda at: sp.Abs,
    "pow": lambda at: lambda a: a ** _num(at["exponent"]),
    "softplus": _softplus,
}
BINARY: dict[str, Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": sp.Max,
    "minimum": sp.Min,
    "pow_tensor": lambda a, b: a**b,
}

from .lowering_elementwise import UNARY_A, lower_triangle, lower_where  # noqa: E402  (issue 11, part A)

UNARY.update(UNARY_A)


def _sum(xs: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*xs)


def _mean(xs: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*xs) / len(xs) if xs else sp.nan


def _reduce(shapes: Shapes, at: dict, combine: Callable) -> list[Stage]:
    dims = S.norm_dims("sum", at.get("dim"), len(shapes[0]))
    return [reduce_rows(rows_last(shapes[0], dims), 0, combine)]


def _matmul(shapes: Shapes, at: dict) -> list[Stage]:
    """out[..., i, k] = sum_j a[..., i, j] b[..., j, k], 1-D operands promoted as torch does."""
    a, b = shapes
    ga: np.ndarray = grid(a).reshape((1,) + tuple(a) if len(a) == 1 else tuple(a))
    gb: np.ndarray = grid(b).reshape(tuple(b) + (1,) if len(b) == 1 else tuple(b))
    batch = np.broadcast_shapes(ga.shape[:-2], gb.shape[:-2])
    n_i, n_j, n_k = ga.shape[-2], ga.shape[-1], gb.shape[-1]
    ga = np.broadcast_to(ga, batch + (n_i, n_j))[..., :, None, :]
    gb = np.swapaxes(np.broadcast_to(gb, batch + (n_j, n_k)), -1, -2)[..., None, :, :]
    full = batch + (n_i, n_k, n_j)
    gather = np.concatenate([np.broadcast_to(ga, full), np.broadcast_to(gb, full)], axis=-1)
    gather = gather.reshape(-1, 2 * n_j)
    s = args(2 * n_j)
    template = sp.Add(*[s[j] * s[n_j + j] for j in range(n_j)])
    group = Group(template, (0,) * n_j + (1,) * n_j, np.arange(len(gather)), gather)
    return [Stage(len(gather), (group,))]


def _linear(shapes: Shapes, at: dict) -> list[Stage]:
    """out[..., o] = sum_j x[..., j] w[o, j] + b[o]."""
    x, w = shapes[0], shapes[1]
    has_bias = len(shapes) > 2 and shapes[2] is not None
    n_in, n_out = w[1], w[0]
    xr = grid(x).reshape(-1, n_in)
    m = xr.shape[0]
    cols = [np.repeat(xr, n_out, axis=0), np.tile(grid(w), (m, 1))]
    if has_bias:
        bias = np.broadcast_to(grid(shapes[2]), (n_out,))
        cols.append(np.tile(bias, m)[:, None])
    gather = np.concatenate(cols, axis=1)
    s = args(gather.shape[1])
    template = sp.Add(*[s[j] * s[n_in + j] for j in range(n_in)]) + (s[2 * n_in] if has_bias else 0)
    sources = (0,) * n_in + (1,) * n_in + ((2,) if has_bias else ())
    return [Stage(len(gather), (Group(template, sources, np.arange(len(gather)), gather),))]


def _softmax_like(log: bool) -> Callable[[Shapes, dict], list[Stage]]:
    """softmax_i = exp(x_i) / sum_j exp(x_j); log_softmax_i = x_i - log(sum_j exp(x_j))."""

    def lower(shapes: Shapes, at: dict) -> list[Stage]:
        dim = S.norm_dim("softmax", at["dim"], len(shapes[0]))
        if not shapes[0]:
            return [Stage(1, (Group(sp.Integer(0) if log else sp.Integer(1), (), np.zeros(1, np.int64),
                                    np.zeros((1, 0), np.int64)),))]
        gather, out_index = rotated_rows(rows_last(shapes[0], (dim,)))
        s = args(gather.shape[1])
        total = sp.Add(*[sp.exp(v) for v in s])
        template = s[0] - sp.log(total) if log else sp.exp(s[0]) / total
        return [Stage(len(gather), (Group(template, (0,) * len(s), out_index, gather),))]

    return lower


def _reduction_stage(n: int, source: int, reduction: str) -> list[Stage]:
    if reduction == "none":
        return []
    combine = _mean if reduction == "mean" else _sum
    return [reduce_rows(np.arange(n).reshape(1, n), source, combine)]


def _bce(shapes: Shapes, at: dict) -> list[Stage]:
    """-w [p y log(sigmoid(x)) + (1 - y) log(1 - sigmoid(x))], with log(sigmoid(x)) written
    as -log(1 + exp(-x)) and log(1 - sigmoid(x)) as -x - log(1 + exp(-x)) (the same function)."""
    present = [i for i in range(4) if i < len(shapes) and shapes[i] is not None]

    def loss(*vals: sp.Expr) -> sp.Expr:
        v = dict(zip(present, vals))
        x, y = v[0], v[1]
        log_sig = -sp.log(1 + sp.exp(-x))
        log_one_minus = -x - sp.log(1 + sp.exp(-x))
        out = -(v.get(3, 1) * y * log_sig + (1 - y) * log_one_minus)
        return out * v.get(2, 1)

    stage = elementwise(loss, [shapes[i] for i in present], present, tuple(shapes[0]))
    return [stage] + _reduction_stage(stage.size, 4, at["reduction"])


def _mse(shapes: Shapes, at: dict) -> list[Stage]:
    out = np.broadcast_shapes(tuple(shapes[0]), tuple(shapes[1]))
    stage = elementwise(lambda a, b: (a - b) ** 2, shapes[:2], (0, 1), out)
    return [stage] + _reduction_stage(stage.size, 2, at["reduction"])


DIRECT: dict[str, Callable[[Shapes, dict], list[Stage]]] = {
    "matmul": _matmul,
    "linear": _linear,
    "sum": lambda sh, at: _reduce(sh, at, _sum),
    "mean": lambda sh, at: _reduce(sh, at, _mean),
    "reshape": lambda sh, at: [gather_only(grid(sh[0]), 0)],
    "flatten": lambda sh, at: [gather_only(grid(sh[0]), 0)],
    "detach": lambda sh, at: [gather_only(grid(sh[0]), 0)],
    "to_dtype": lambda sh, at: [gather_only(grid(sh[0]), 0)],  # a dtype conversion is the identity
    "transpose": lambda sh, at: [gather_only(np.swapaxes(grid(sh[0]), at["dim0"], at["dim1"])
                                             if sh[0] else grid(sh[0]), 0)],
    "permute": lambda sh, at: [gather_only(np.transpose(grid(sh[0]), at["dims"]), 0)],
    "select": lambda sh, at: [gather_only(np.take(grid(sh[0]), at["index"], axis=at["dim"]), 0)],
    "slice": lambda sh, at: [gather_only(_sliced(grid(sh[0]), at), 0)],
    "softmax": _softmax_like(log=False),
    "log_softmax": _softmax_like(log=True),
    "binary_cross_entropy_with_logits": _bce,
    "mse_loss": _mse,
    "where": lower_where,
    "tril": lower_triangle(upper=False),
    "triu": lower_triangle(upper=True),
}



def _variance(correction: float) -> Callable[[Sequence[sp.Expr]], sp.Expr]:
    def var(xs: Sequence[sp.Expr]) -> sp.Expr:
        mean = sp.Add(*xs) / len(xs)
        return sp.Add(*[(x - mean) ** 2 for x in xs]) / (len(xs) - _num(correction))
    return var


def zero_safe_sqrt(s: sp.Expr) -> sp.Expr:
    """sqrt of a sum of squares (a 2-norm's, a variance's), 0 with derivative 0 where the sum is 0:
    PyTorch's subgradient of a 2-norm at the zero vector and of std at a constant row (the
    derivative x / sqrt(s) would be 0 / 0 there)."""
    return sp.Piecewise((sp.sqrt(s), s > 0), (0, True))


def _norm(p: float) -> Callable[[Sequence[sp.Expr]], sp.Expr]:
    if p == 1:
        return lambda xs: sp.Add(*[sp.Abs(x) for x in xs])
    return lambda xs: zero_safe_sqrt(sp.Add(*[x * x for x in xs]))


def _cumsum(shapes: Shapes, at: dict) -> list[Stage]:
    """out[..., k, ...] = sum of in[..., :k+1, ...]: one group per prefix length."""
    shape = tuple(shapes[0])
    if not shape:
        return [gather_only(grid(shape), 0)]
    dim = at["dim"] % len(shape)
    rows = rows_last(shape, (dim,))  # (kept, n): each row one running sum
    out = np.moveaxis(grid(shape), dim, -1).reshape(-1, shape[dim])
    groups = tuple(Group(_sum(args(k + 1)), (0,) * (k + 1), out[:, k], rows[:, : k + 1])
                   for k in range(shape[dim]))
    return [Stage(int(np.prod(shape, dtype=np.int64)), groups)]


REDUCTIONS: dict[str, Callable[[dict], Callable[[Sequence[sp.Expr]], sp.Expr]]] = {
    "logsumexp": lambda at: lambda xs: sp.log(sp.Add(*[sp.exp(x) for x in xs])),
    "amax": lambda at: lambda xs: sp.Max(*xs), "max_all": lambda at: lambda xs: sp.Max(*xs),
    "max_dim": lambda at: lambda xs: sp.Max(*xs),
    "amin": lambda at: lambda xs: sp.Min(*xs), "min_all": lambda at: lambda xs: sp.Min(*xs),
    "min_dim": lambda at: lambda xs: sp.Min(*xs),
    "var": lambda at: _variance(at["correction"]),
    "std": lambda at: lambda xs: zero_safe_sqrt(_variance(at["correction"])(xs)),
    "norm": lambda at: _norm(at["p"]),
    "prod": lambda at: lambda xs: sp.Mul(*xs),
}
def _reducing(op: str) -> Callable[[Shapes, dict], list[Stage]]:
    return lambda shapes, at: _reduce(shapes, at, REDUCTIONS[op](at))


DIRECT.update({op: _reducing(op) for op in REDUCTIONS})
DIRECT["cumsum"] = _cumsum


def _sliced(g: np.ndarray, at: dict) -> np.ndarray:
    index = (slice(None),) * (at["dim"] % g.ndim) + (slice(at["start"], at["stop"], at["step"]),)
    return g[index]


def lower(op: str, shapes: Shapes, attrs: dict, ints: Sequence[np.ndarray | None]) -> list[Stage]:
    """The stages computing ``op``'s output from its inputs (the last stage is the output)."""
    if op in UNARY:
        return [elementwise(UNARY[op](attrs), shapes[:1], (0,), tuple(shapes[0]))]
    if op in BINARY:
        out = np.broadcast_shapes(tuple(shapes[0]), tuple(shapes[1]))
        return [elementwise(BINARY[op], shapes[:2], (0, 1), out)]
    if op == "cross_entropy":
        from .cross_entropy import lower_cross_entropy

        return lower_cross_entropy(shapes, attrs, ints[1])
    if op in SHAPE_OPS:
        return lower_shape(op, shapes, attrs, ints)
    if op == "nll_loss":
        return lower_nll(shapes, attrs, ints[1])
    if op in LOSS_OPS:
        return lower_loss(op, shapes, attrs)
    if op in NN_LOWERING:
        return NN_LOWERING[op](shapes, attrs, ints)
    if op == "scatter_add":
        return lower_scatter_add(shapes, attrs, ints)
    return DIRECT[op](shapes, attrs)


from .lowering_conv import CONV_LOWERING  # noqa: E402 (registration block)
from .lowering_pool import POOL_LOWERING  # noqa: E402

DIRECT.update(CONV_LOWERING)
from .lowering_resample import RESAMPLE_LOWERING  # noqa: E402

DIRECT.update(POOL_LOWERING)
DIRECT.update(RESAMPLE_LOWERING)
from .lowering_everyday import BINARY_EVERYDAY, UNARY_EVERYDAY, lower_cumprod  # noqa: E402 (opsb sweep)
from .lowering_losses import LOSS_OPS, lower_loss, lower_nll  # noqa: E402
from .lowering_nn import NN_LOWERING  # noqa: E402
from .lowering_scatter import lower_scatter_add  # noqa: E402
from .lowering_shape import SHAPE_OPS, lower_shape  # noqa: E402 (registration block)

UNARY.update(UNARY_EVERYDAY)
BINARY.update(BINARY_EVERYDAY)
DIRECT["cumprod"] = lower_cumprod
