"""``crossgrad.nn.functional``: PyTorch's functional API over the catalogue ops."""

from __future__ import annotations

from typing import Any

from ..errors import DtypeError
from .dispatch import apply
from .tensor import Tensor
from .tensor_math import wrap


def _t(x: Any, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return wrap(x, like) if like is not None else Tensor(x)


def _opt(x: Any, like: Tensor) -> Tensor | None:
    return None if x is None else _t(x, like)


def same_dtype(op: str, a: Tensor, b: Tensor | None) -> None:
    """torch's matmul/linear never mix dtypes (float32 @ float64 and int64 @ float32 raise)."""
    if b is not None and a._data.dtype != b._data.dtype:
        raise DtypeError(op, f"expected both operands to have the same dtype, but got {a.dtype.name} "
                             f"and {b.dtype.name}")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    input, other = _t(input), _t(other)
    same_dtype("matmul", input, other)
    return apply("matmul", (input, other), {})


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return _t(input).maximum(_t(other, input))  # torch's promotion (int64 with float32 is float32)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return _t(input).minimum(_t(other, input))


def exp(input: Tensor) -> Tensor:
    return apply("exp", (input,), {})


def log(input: Tensor) -> Tensor:
    return apply("log", (input,), {})


def sqrt(input: Tensor) -> Tensor:
    return apply("sqrt", (input,), {})


def tanh(input: Tensor) -> Tensor:
    return apply("tanh", (input,), {})


def sigmoid(input: Tensor) -> Tensor:
    return apply("sigmoid", (input,), {})


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return apply("relu", (input,), {})


def abs(input: Tensor) -> Tensor:  # noqa: A001
    return apply("abs", (input,), {})


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return apply("softplus", (input,), {"beta": float(beta), "threshold": float(threshold)})


def softmax(input: Tensor, dim: int) -> Tensor:
    return apply("softmax", (input,), {"dim": dim})


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return apply("log_softmax", (input,), {"dim": dim})


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias."""
    same_dtype("linear", input, weight)
    return apply("linear", (input, weight, bias), {})


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    for name, value in (("weight", weight), ("pos_weight", pos_weight)):
        if isinstance(value, Tensor) and value.requires_grad:
            raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    inputs = (input, _t(target, input), _opt(weight, input), _opt(pos_weight, input))
    return apply("binary_cross_entropy_with_logits", inputs, {"reduction": reduction})


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Class-index targets only (int64); probability targets are not supported."""
    target = _t(target)
    if target.dtype.is_floating_point:
        raise DtypeError("cross_entropy", "crossgrad's cross_entropy takes class-index targets (int64); "
                         "probability targets (float targets) are not supported")
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise RuntimeError("the derivative for 'weight' is not implemented.")
    from .functional_cnn import same_floats

    same_floats("cross_entropy", input, weight)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.dim() > 2:
        from .loss_spatial import flattened

        return flattened(cross_entropy, input, target, reduction, weight=weight, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)
    attrs = {"ignore_index": int(ignore_index), "reduction": reduction,
             "label_smoothing": float(label_smoothing)}
    return apply("cross_entropy", (input, target, _opt(weight, input)), attrs)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    target = _t(target, input)
    if hasattr(target, "shape") and tuple(target.shape) != tuple(input.shape):
        from .nn_api import warn_target_size

        warn_target_size(input, target)
    return apply("mse_loss", (input, target), {"reduction": reduction})
