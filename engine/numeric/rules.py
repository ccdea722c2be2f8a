"""Numeric forward and hand-written VJP of every catalogue op, side by side.

``forward(xs, attrs) -> (out, saved)``: ``saved`` is what the VJP needs (None when it needs
no values, so that op survives a second backward exactly as in PyTorch).
``vjp(g, saved, node) -> grads``: one entry per input, None where ``node.needs`` is False.
Every rule keeps the dtype of its inputs (float32 stays float32).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import array_kernels, losses
from .autograd import ADDS_INTO
from .ruletools import Arr, Rule, embed, log_softmax, sigmoid, traced, unbroadcast


def _tie_mask(a: Arr, b: Arr, wins: Arr, dtype: Any) -> Arr:
    """1 where ``wins``, 1/2 on ties a == b, else 0 (PyTorch's maximum/minimum split)."""
    return np.where(a == b, np.asarray(0.5, dtype), np.asarray(wins, dtype))


def _binary(fwd: Callable, vjp: Callable, saves: bool = True) -> Rule:
    """A broadcasting binary op; the VJP gives full-shape grads, unbroadcast here."""

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        out = fwd(xs[0], xs[1])
        return out, ((xs[0], xs[1], out) if saves else None)

    def backward(g: Arr, saved: Any, node: Any) -> tuple:
        needs = node.needs
        ga, gb = vjp(g, saved, needs)
        sa, sb = node.shapes
        ga = None if not needs[0] else ga if ga.shape == sa else unbroadcast(ga, sa)
        gb = None if not needs[1] else gb if gb.shape == sb else unbroadcast(gb, sb)
        return ga, gb

    return Rule(forward, backward)


def _unary(fwd: Callable, vjp: Callable) -> Rule:
    """An elementwise op; ``vjp(g, x, out)`` gives the input grad."""

    def forward(xs: tuple, at: dict) -> tuple[Arr, Any]:
        out = fwd(xs[0], at)
        return out, (xs[0], out)

    return Rule(forward, lambda g, saved, node: (vjp(g, saved[0], saved[1], node.attrs),))


def _shape_only(fwd: Callable, vjp: Callable) -> Rule:
    """An op whose VJP needs only shapes and attributes, so nothing is saved."""
    return Rule(lambda xs, at: (fwd(xs[0], at), None),
                lambda g, saved, node: (vjp(g, node.shapes[0], node.attrs),))


def _either(needs: tuple, fa: Callable, fb: Callable) -> tuple:
    return (fa() if needs[0] else None, fb() if needs[1] else None)


# --- binary, broadcasting -------------------------------------------------------------
ADD = _binary(np.add, lambda g, s, n: (g, g), saves=False)
SUB = _binary(np.subtract, lambda g, s, n: (g, -g if n[1] else None), saves=False)
MUL = _binary(np.multiply, lambda g, s, n: _either(n, lambda: g * s[1], lambda: g * s[0]))
DIV = _binary(np.divide, lambda g, s, n: _either(n, lambda: g / s[1], lambda: -g * s[2] / s[1]))
MAXIMUM = _binary(np.maximum, lambda g, s, n: _split(g, s, s[0] < s[1], s[0] > s[1]))
MINIMUM = _binary(np.minimum, lambda g, s, n: _split(g, s, s[0] > s[1], s[0] < s[1]))


def _split(g: Arr, s: tuple, a_loses: Arr, b_loses: Arr) -> tuple:
    """d max(a,b): to each input unless it loses, half each on a tie (a NaN loses to nothing, so
    both get g there, as torch's masked_fill of a < b and a > b)."""
    return g * _tie_mask(s[0], s[1], ~a_loses, g.dtype), g * _tie_mask(s[0], s[1], ~b_loses, g.dtype)


def _pow_tensor_vjp(g: Arr, s: tuple, n: tuple) -> tuple:
    """d a^b: b a^(b-1) da, 0 where b == 0; a^b log(a) db, 0 where a == 0 and b >= 0 (torch's
    pow_backward_self and pow_backward_exponent: 0^b is flat in b there; 0^b, b < 0, gives -inf)."""
    a, b, out = s
    zero = np.zeros((), g.dtype)
    a_, b_ = (x._data if hasattr(x, "_data") else x for x in (a, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _either(n, lambda: np.where(b_ == 0, zero, g * b * a ** (b - 1)),
                       lambda: np.where((a_ == 0) & (b_ >= 0), zero, g * out * np.log(a)))


def _power(a: Arr, b: Arr) -> Arr:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.power(a, b)


POW_TENSOR = _binary(_power, _pow_tensor_vjp)


# --- elementwise ----------------------------------------------------------------------
def _pow_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d x^p = p x^(p-1); exactly 0 when p == 0."""
    p = at["exponent"]
    if p == 0:
        return np.zeros_like(g)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * p * x ** (p - 1)


def _softplus(x: Arr, at: dict) -> Arr:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    z = x * at["beta"]
    return np.where(z > at["threshold"], x, np.logaddexp(0, z) / at["beta"])


def _softplus_vjp(g: Arr, x: Arr, out: Arr, at: dict) -> Arr:
    """d softplus = sigmoid(beta x), 1 above the threshold."""
    z = x * at["beta"]
    return g * np.where(z > at["threshold"], np.ones_like(z), sigmoid(z))


def _log(x: Arr, at: dict) -> Arr:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _sqrt(x: Arr, at: dict) -> Arr:
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


def _pow(x: Arr, at: dict) -> Arr:
    with np.errstate(divide="ignore", invalid="ignore"):
        return x ** at["exponent"]


def _div0(a: Arr, b: Arr) -> Arr:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


POW = _unary(_pow, _pow_vjp)
NEG = _shape_only(lambda x, at: -x, lambda g, shape, at: -g)
EXP = _unary(lambda x, at: np.exp(x), lambda g, x, out, at: g * out)
LOG = _unary(_log, lambda g, x, out, at: _div0(g, x))
SQRT = _unary(_sqrt, lambda g, x, out, at: _div0(g, 2 * out))
TANH = _unary(lambda x, at: np.tanh(x), lambda g, x, out, at: g * (1 - out * out))
SIGMOID = _unary(lambda x, at: sigmoid(x), lambda g, x, out, at: g * out * (1 - out))
RELU = _unary(lambda x, at: np.maximum(x, 0), lambda g, x, out, at: g * ~(out <= 0))  # torch's: NaN passes g
ABS = _unary(lambda x, at: np.abs(x), lambda g, x, out, at: g * np.sign(x))
SOFTPLUS = _unary(_softplus, _softplus_vjp)


# --- matmul and linear ----------------------------------------------------------------
def _matmul_vjp(g: Arr, s: tuple, node: Any) -> tuple:
    """d(A B) = dA B + A dB with 1-D operands promoted to matrices and batch dims summed."""
    a, b = s
    if a.ndim == 2 and b.ndim == 2:
        return _either(node.needs, lambda: g @ b.T, lambda: a.T @ g)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
    return _either(
        node.needs,
        lambda: unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape),
        lambda: unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape),
    )


MATMUL = Rule(lambda xs, at: (np.matmul(xs[0], xs[1]), (xs[0], xs[1])), _matmul_vjp)


def _linear(xs: tuple, at: dict) -> tuple[Arr, Any]:
    """input @ weight.T + bias (PyTorch's addmm when input is 2-D)."""
    x, w, b = xs
    out = _fold(x, w.shape[1]) @ w.T  # batch dims folded into one GEMM, as torch's matmul does
    if b is not None:
        out += b
    return out.reshape(x.shape[:-1] + w.shape[:1]), (x, w)


def _fold(x: Any, inner: int) -> Any:
    """An N-D operand as one matrix (no copy when it is contiguous; 1-D stays 1-D)."""
    return x.reshape(-1, inner) if x.ndim > 2 else x


def _linear_vjp(g: Arr, s: tuple, node: Any) -> tuple:
    """dx = g W, dW = g^T x (batch dims folded), db = sum of g over the batch."""
    x, w = s
    g2 = g.reshape(-1, w.shape[0])
    needs = node.needs
    gx = (_fold(g, w.shape[0]) @ w).reshape(node.shapes[0]) if needs[0] else None
    gw = g2.T @ x.reshape(-1, w.shape[1]) if needs[1] else None
    gb = unbroadcast(_bias_grad(g2), node.shapes[2]) if len(needs) > 2 and needs[2] else None
    return gx, gw, gb


def _bias_grad(g2: Any) -> Any:
    """The bias gradient: g summed over the batch (one GEMV on arrays, a recorded sum on tensors)."""
    return g2.sum(axis=0) if traced(g2) else array_kernels.sum_leading(g2, 1)


LINEAR = Rule(_linear, _linear_vjp)


# --- reductions and shape ops ---------------------------------------------------------
def reduced_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    return tuple(d % max(ndim, 1) for d in ((dim,) if isinstance(dim, int) else dim) if ndim)


def _sum(x: Arr, at: dict) -> Arr:
    return np.asarray(x.sum(axis=reduced_dims(at["dim"], x.ndim), keepdims=at["keepdim"]))


def _mean(x: Arr, at: dict) -> Arr:
    return np.asarray(x.mean(axis=reduced_dims(at["dim"], x.ndim), keepdims=at["keepdim"]))


def _expand_back(g: Arr, shape: tuple, at: dict) -> Arr:
    """The gradient of a sum: g copied along the reduced dims."""
    if not at["keepdim"]:
        g = np.expand_dims(g, reduced_dims(at["dim"], len(shape)))
    return np.broadcast_to(g, shape)


def _mean_vjp(g: Arr, shape: tuple, at: dict) -> Arr:
    """d mean = 1/N on every reduced element."""
    count = 1
    for d in reduced_dims(at["dim"], len(shape)):
        count *= shape[d]
    return _expand_back(g, shape, at) / count if count else np.zeros(shape, g.dtype)


def _select_vjp(g: Arr, shape: tuple, at: dict) -> Arr:
    return embed(g, shape, at["dim"], at["index"])


def _slice_vjp(g: Arr, shape: tuple, at: dict) -> Arr:
    return embed(g, shape, at["dim"], slice(at["start"], at["stop"], at["step"]))


def index_along(shape: tuple, dim: int, item: Any) -> tuple:
    return (slice(None),) * (dim % len(shape)) + (item,)


SUM = _shape_only(_sum, _expand_back)
MEAN = _shape_only(_mean, _mean_vjp)
RESHAPE = _shape_only(lambda x, at: x.reshape(at["shape"]), lambda g, shape, at: g.reshape(shape))
FLATTEN = _shape_only(
    lambda x, at: x.reshape(_flat_shape(x.shape, at)), lambda g, shape, at: g.reshape(shape)
)
TRANSPOSE = _shape_only(
    lambda x, at: np.swapaxes(x, at["dim0"], at["dim1"]) if x.ndim else x,
    lambda g, shape, at: np.swapaxes(g, at["dim0"], at["dim1"]) if g.ndim else g,
)
PERMUTE = _shape_only(
    lambda x, at: np.transpose(x, at["dims"]),
    lambda g, shape, at: np.transpose(g, np.argsort(at["dims"])),
)
SELECT = _shape_only(lambda x, at: x[index_along(x.shape, at["dim"], at["index"])], _select_vjp)
SLICE = _shape_only(
    lambda x, at: x[index_along(x.shape, at["dim"], slice(at["start"], at["stop"], at["step"]))],
    _slice_vjp,
)


def _add_into(item: Callable[[dict], Any]) -> Callable[[Arr, Any, Arr], None]:
    """The VJP of select/slice added into ``total``, the input's gradient so far (a split's pieces
    write into one array instead of each embedding into zeros and the pieces being summed)."""

    def add(g: Arr, node: Any, total: Arr) -> None:
        total[index_along(node.shapes[0], node.attrs["dim"], item(node.attrs))] += g

    return add


ADDS_INTO[SELECT.vjp] = _add_into(lambda at: at["index"])
ADDS_INTO[SLICE.vjp] = _add_into(lambda at: slice(at["start"], at["stop"], at["step"]))


def _flat_shape(shape: tuple, at: dict) -> tuple:
    if not shape:
        return (1,)
    start, end = at["start_dim"] % len(shape), at["end_dim"] % len(shape)
    if start > end:  # the shape rule's ShapeError is raised by the dispatcher
        raise ValueError("flatten: start_dim after end_dim")
    return shape[:start] + (-1,) + shape[end + 1 :]


# --- softmax family -------------------------------------------------------------------
def _softmax_vjp(g: Arr, x: Arr, y: Arr, at: dict) -> Arr:
    if not traced(g, y):
        return array_kernels.softmax_vjp(g, y, at["dim"])
    return y * (g - (g * y).sum(axis=at["dim"], keepdims=True))


def _log_softmax_vjp(g: Arr, x: Arr, y: Arr, at: dict) -> Arr:
    if not traced(g, y):
        return array_kernels.log_softmax_vjp(g, y, at["dim"])
    return g - np.exp(y) * g.sum(axis=at["dim"], keepdims=True)


SOFTMAX = _unary(lambda x, at: array_kernels.softmax(x, at["dim"]), _softmax_vjp)
LOG_SOFTMAX = _unary(lambda x, at: log_softmax(x, at["dim"]), _log_softmax_vjp)


DETACH = Rule(lambda xs, at: (xs[0].view(), None), lambda g, saved, node: (None,))  # a view: see Tensor.detach

RULES: dict[str, Rule] = {
    "add": ADD, "sub": SUB, "mul": MUL, "div": DIV, "maximum": MAXIMUM, "minimum": MINIMUM,
    "pow_tensor": POW_TENSOR, "pow": POW, "neg": NEG, "exp": EXP, "log": LOG, "sqrt": SQRT,
    "tanh": TANH, "sigmoid": SIGMOID, "relu": RELU, "abs": ABS, "softplus": SOFTPLUS,
    "matmul": MATMUL, "linear": LINEAR, "sum": SUM, "mean": MEAN, "reshape": RESHAPE,
    "flatten": FLATTEN, "transpose": TRANSPOSE, "permute": PERMUTE, "select": SELECT,
    "slice": SLICE, "softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX, "detach": DETACH,
    "binary_cross_entropy_with_logits": losses.BCE_WITH_LOGITS,
    "cross_entropy": losses.CROSS_ENTROPY, "mse_loss": losses.MSE,
}

from .rules_conv import CONV_RULES  # noqa: E402  (each family's rules use helpers from here)
from .rules_elementwise import ELEMENTWISE_RULES  # noqa: E402
from .rules_pool import POOL_RULES  # noqa: E402
from .rules_reductions import REDUCTION_RULES  # noqa: E402
from .rules_resample import RESAMPLE_RULES  # noqa: E402

for _family in (ELEMENTWISE_RULES, REDUCTION_RULES, CONV_RULES, POOL_RULES, RESAMPLE_RULES):
    RULES.update(_family)

from .rules_shape import SHAPE_RULES  # noqa: E402 (registration block)

RULES.update(SHAPE_RULES)

from .rules_nn import NN_RULES  # noqa: E402

RULES.update(NN_RULES)

from .rules_scatter import SCATTER_RULES  # noqa: E402

RULES.update(SCATTER_RULES)

from .rules_losses import LOSS_RULES  # noqa: E402

RULES.update(LOSS_RULES)

from .rules_cast import CAST_RULES  # noqa: E402

RULES.update(CAST_RULES)

from .rules_everyday import EVERYDAY_RULES  # noqa: E402 (cumprod, atan2, hardswish, hardsigmoid, mish)

RULES.update(EVERYDAY_RULES)
