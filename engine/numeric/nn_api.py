"""``crossgrad.nn.functional`` entries of issue 11 part B (nn ops, losses, attention)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DtypeError, ShapeError
from ..shapes import broadcast
from . import torch_dists
from .creation import _engine
from .dispatch import apply
from .functional_cnn import same_floats
from .functional_elementwise import floating
from .shape_api import _check_index
from .tensor_math import _renamed


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Any:
    """weight[input]; the padding_idx row gets no gradient (torch's rule)."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    attrs = {"padding_idx": None if padding_idx is None else int(padding_idx) % weight.shape[0]}
    _check_index("embedding", input, weight, attrs)
    return apply("embedding", (input, weight), attrs)


def layer_norm(input: Any, normalized_shape: int | Sequence[int], weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Any:
    same_floats("layer_norm", input, weight, bias)
    floating("layer_norm", input)  # torch: "LayerNormKernelImpl" not implemented for 'Long'
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    return apply("layer_norm", (input, weight, bias), {"normalized_shape": tuple(int(n) for n in shape),
                                                        "eps": float(eps)})


def _loss(op: str, input: Any, target: Any, reduction: str, **attrs: Any) -> Any:
    input, target = broadcast_target(op, input, target, warn=op != "kl_div")
    input, target = _promoted(op, input, target)
    return apply(op, (input, target), {"reduction": reduction, **attrs})


def _promoted(op: str, input: Any, target: Any) -> tuple[Any, Any]:
    """Mixed float dtypes as torch computes them: promoted (huber_loss: the input's dtype)."""
    a, b = getattr(input, "_data", None), getattr(target, "_data", None)
    if a is None or b is None or a.dtype == b.dtype or a.dtype.kind != "f" or b.dtype.kind != "f":
        return input, target
    if op == "huber_loss":
        return input, target.to(input.dtype)
    wide = input.dtype if a.dtype.itemsize >= b.dtype.itemsize else target.dtype
    return input.to(wide), target.to(wide)


def warn_target_size(input: Any, target: Any) -> None:
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size (torch.Size({list(target.shape)})) that is different to the input size "
                      f"(torch.Size({list(input.shape)})). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=5)


def broadcast_target(op: str, input: Any, target: Any, warn: bool = True) -> tuple[Any, Any]:
    """torch broadcasts a target of another size against the input (with its warning) for the
    pointwise regression losses; both are expanded to the common shape."""
    if not hasattr(target, "_data") or not hasattr(input, "_data") or tuple(input.shape) == tuple(target.shape):
        return input, target
    shape = broadcast(op, tuple(input.shape), tuple(target.shape))  # torch's error when they do not broadcast
    if warn:
        warn_target_size(input, target)
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in (input, target))


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    return _loss("l1_loss", input, target, reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
    return _loss("smooth_l1_loss", input, target, reduction, beta=float(beta))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
    return _loss("huber_loss", input, target, reduction, delta=float(delta))


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Any:
    return _loss("kl_div", input, target, reduction, log_target=bool(log_target))


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Any:
    same_floats("nll_loss", input, weight)
    if input.dim() > 2:
        from .loss_spatial import flattened

        return flattened(nll_loss, input, target, reduction, weight=weight, ignore_index=ignore_index)
    t, n = getattr(target, "_data", None), input.shape[-1] if input.dim() else 0
    if t is not None and t.dtype.kind in "iu" and t.size:
        bad = (t != ignore_index) & ((t < 0) | (t >= n))
        if bad.any():
            raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")  # torch's message and type
    if t is not None and t.dtype.kind not in "iu":
        raise DtypeError("nll_loss", f"expected target dtype to be Long or Byte, but got {target.dtype.name}")
    return apply("nll_loss", (input, target, weight), {"ignore_index": int(ignore_index), "reduction": reduction})


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Any:
    """-w [y log(x) + (1 - y) log(1 - x)] of probabilities x (logs clamped at -100, as torch)."""
    same_floats("binary_cross_entropy", input, target, weight)
    data = getattr(input, "_data", None)
    if data is not None and data.size and not ((data >= 0) & (data <= 1)).all():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    t = getattr(target, "_data", None)
    if t is not None and t.size and not ((t >= 0) & (t <= 1)).all():
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
    return apply("binary_cross_entropy", (input, target, weight), {"reduction": reduction})


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """input * mask, the mask torch's CPU kernel draws (bernoulli_(1 - p) / (1 - p), so torch's mask
    under the same seed); recorded as a non-differentiable leaf so every witness sees the same mask."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input._data.dtype.kind != "f":
        raise DtypeError("dropout", f"result type Float can't be cast to the desired output type {input.dtype.name}")
    mask = torch_dists.dropout_mask(_engine(None), tuple(input.shape), p, input._data.dtype.type)
    return apply("dropout", (input, input._make(mask)), {})


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False) -> Any:
    """softmax(q k^T * scale + mask) v, recorded as torch's math path records it (matmuls, a
    masked_fill with -inf for bool / causal masks, softmax): every witness derives it from those
    ops. The output's grad_fn carries torch 2.13's CPU name: its fused kernel's
    (ScaledDotProductFlashAttentionForCpuBackward0) for 4-D inputs whose value head size is the
    query's, UnsafeViewBackward0 otherwise. A query row whose mask hides every key is 0 (torch's
    safe softmax), its gradients 0: the row is left unmasked and its weights multiplied by 0."""
    same_floats("scaled_dot_product_attention", query, key, value)
    if attn_mask is not None and attn_mask._data.dtype.kind not in "bf":
        raise DtypeError("scaled_dot_product_attention", "Expected attn_mask dtype to be bool or float or to match "
                         f"query dtype, but got attn_mask.dtype: {attn_mask.dtype.name}")
    if attn_mask is not None and attn_mask.ndim < 2 and query.ndim == 4:  # torch's fused CPU kernel refuses it
        raise IndexError("scaled_dot_product_attention: attn_mask of 4-D inputs must have at least 2 dims (query "
                         f"length, key length), got shape {list(attn_mask.shape)}")
    if attn_mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    size = query.shape[-1]
    factor = 1.0 / float(np.sqrt(size)) if scale is None else float(scale)
    scores = apply("matmul", (query, key.transpose(-2, -1)), {}) * factor
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        blocked = ~np.tril(np.ones((length, source), bool))
        scores = apply("masked_fill", (scores, query._make(blocked)), {"value": float("-inf")})
    if attn_mask is not None:
        _mask_fits(tuple(scores.shape), tuple(attn_mask.shape))
    alive = None  # rows with no visible key: torch's safe softmax makes them 0, not nan
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            alive = attn_mask._data.any(axis=-1, keepdims=True)
            blocked = ~attn_mask._data & alive
            scores = apply("masked_fill", (scores, attn_mask._make(blocked)), {"value": float("-inf")})
        elif not attn_mask.requires_grad and np.isneginf(attn_mask._data).any():
            alive = ~np.isneginf(attn_mask._data).all(axis=-1, keepdims=True)
            scores = scores + attn_mask._make(np.where(alive, attn_mask._data, 0))
        else:
            scores = scores + attn_mask
    weights = apply("softmax", (scores,), {"dim": -1})
    if alive is not None and not alive.all():
        weights = weights * weights._make(alive.astype(weights._data.dtype))
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    out = apply("matmul", (weights, value), {})
    # torch takes its math path for a mask that requires grad or is neither 2-D nor 4-D
    grad_mask = attn_mask is not None and (attn_mask.requires_grad or attn_mask.ndim not in (2, 4))
    if query.ndim == 4 and dropout_p == 0.0 and value.shape[-1] == query.shape[-1] and not grad_mask:
        out = _renamed(out, "ScaledDotProductFlashAttentionForCpuBackward0")
    return out


def _mask_fits(scores: tuple, mask: tuple) -> None:
    """torch adds the mask into the (..., L, S) scores in place: it may broadcast to them, not grow them."""
    try:
        grown = np.broadcast_shapes(scores, mask)
    except ValueError:
        raise ShapeError("scaled_dot_product_attention", f"attn_mask of shape {list(mask)} does not broadcast to "
                         f"the attention scores' shape {list(scores)}") from None
    if grown != scores:
        raise ShapeError("scaled_dot_product_attention", f"output with shape {list(scores)} doesn't match the "
                         f"broadcast shape {list(grown)} (attn_mask of shape {list(mask)})")


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along dim, as torch computes it; the norm is
    the catalogue's (its gradient at a zero vector is 0, as torch's, so a zero row gets y / (eps |y|))."""
    from .functional_elementwise import clamp

    def unit(x: Any) -> Any:
        norm = apply("norm", (x,), {"p": 2.0, "dim": (dim,), "keepdim": True})
        return x / clamp(norm, min=eps)

    return apply("sum", (unit(x1) * unit(x2),), {"dim": dim, "keepdim": False})
