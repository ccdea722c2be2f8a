"""``crossgrad.nn.functional`` entries of issue 11 part B: embedding and layer_norm."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .dispatch import apply
from .shape_api import _check_index


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
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    return apply("layer_norm", (input, weight, bias), {"normalized_shape": tuple(int(n) for n in shape),
                                                        "eps": float(eps)})
