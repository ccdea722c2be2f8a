"""nn.MultiheadAttention as torch 2.13 computes it (``F.multi_head_attention_forward``'s explicit
path), composed of catalogue ops: the packed input projection (``in_proj_weight``/``in_proj_bias``,
or ``q/k/v_proj_weight`` when kdim/vdim differ), scaled q k^T plus the merged float mask
(attn_mask and key_padding_mask; a bool True is -inf), softmax, dropout, the weighted values and
``out_proj``. torch's parameter names, order and init (xavier_uniform_ in-projection, zero
biases); batch_first both ways, unbatched inputs, need_weights/average_attn_weights. Not here:
add_bias_kv and add_zero_attn (refused by name), torch's fused fast path (the same numbers).
nn.TransformerEncoderLayer and nn.TransformerEncoder (below) are built on it as torch builds them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from crossgrad.engine.numeric import creation
from crossgrad.engine.numeric.nn import Linear, Module, Parameter
from crossgrad.engine.numeric.tensor import Tensor
from crossgrad.nn import functional as F
from crossgrad.nn import init


class NonDynamicallyQuantizableLinear(Linear):
    """torch's out_proj class (a Linear; the name shows in repr)."""


class MultiheadAttention(Module):
    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported")
        super().__init__()
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        empty = lambda *s: Parameter(creation.zeros(*s, dtype=dtype))  # noqa: E731
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.in_proj_weight = None
        self.in_proj_bias = empty(3 * embed_dim) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = query.ndim == 3
        if self.batch_first and batched:
            query, key, value = (t.transpose(1, 0) for t in (query, key, value))
        out, weights = multi_head_attention_forward(self, query, key, value, key_padding_mask, need_weights,
                                                    attn_mask, average_attn_weights, is_causal)
        return (out.transpose(1, 0) if self.batch_first and batched else out), weights


def _float_mask(mask: Tensor | None, name: str, dtype: Any) -> Tensor | None:
    """torch's _canonical_mask: a bool mask as 0 / -inf in the query's dtype; a float one as it is."""
    if mask is None:
        return None
    if mask.dtype.is_floating_point:
        return mask
    if mask.dtype.name != "bool":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    data = np.where(mask.numpy(), -np.inf, 0.0).astype(dtype.np)
    return Tensor._make(data)


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, m: MultiheadAttention) -> None:
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D "
                             "query tensor")
    if query.shape[-1] != m.embed_dim:
        raise AssertionError(f"was expecting embedding dimension of {m.embed_dim}, but got {query.shape[-1]}")
    if key.shape[:-1] != value.shape[:-1]:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")


def _projections(m: MultiheadAttention, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
    e = m.embed_dim
    b = m.in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
    if m.in_proj_weight is not None:
        w = m.in_proj_weight
        wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
    else:
        wq, wk, wv = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
    return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)


def _merged_mask(attn_mask: Tensor | None, key_padding_mask: Tensor | None, dtype: Any, tgt: int, src: int,
                 bsz: int, heads: int) -> Tensor | None:
    """attn_mask as (1 or bsz*heads, tgt, src) plus the key padding mask per (batch, head)."""
    mask = _float_mask(attn_mask, "attn_mask", dtype)
    if mask is not None:
        want = (tgt, src) if mask.ndim == 2 else (bsz * heads, tgt, src)
        if mask.ndim not in (2, 3) or tuple(mask.shape) != want:
            raise RuntimeError(f"The shape of the {mask.ndim}D attn_mask is {mask.shape}, but should be {want}.")
        mask = mask.unsqueeze(0) if mask.ndim == 2 else mask
    padding = _float_mask(key_padding_mask, "key_padding_mask", dtype)
    if padding is not None:
        if tuple(padding.shape) != (bsz, src):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src)}, but got {padding.shape}")
        padding = padding.view(bsz, 1, 1, src).expand(-1, heads, -1, -1).reshape(bsz * heads, 1, src)
        mask = padding if mask is None else mask + padding
    return mask


def multi_head_attention_forward(m: MultiheadAttention, query: Tensor, key: Tensor, value: Tensor,
                                 key_padding_mask: Tensor | None, need_weights: bool, attn_mask: Tensor | None,
                                 average_attn_weights: bool, is_causal: bool) -> tuple[Tensor, Tensor | None]:
    """The (tgt, batch, embed) layout of torch's function; 2-D inputs are one unbatched sequence."""
    _check_shapes(query, key, value, m)
    batched = query.ndim == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        key_padding_mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(0)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    tgt, bsz, e = query.shape
    src, heads, hd = key.shape[0], m.num_heads, m.head_dim
    q, k, v = _projections(m, query, key, value)
    mask = _merged_mask(attn_mask, key_padding_mask, query.dtype, tgt, src, bsz, heads)
    q = q.reshape(tgt, bsz * heads, hd).transpose(0, 1)
    k = k.reshape(src, bsz * heads, hd).transpose(0, 1)
    v = v.reshape(src, bsz * heads, hd).transpose(0, 1)
    scores = (q * math.sqrt(1.0 / float(hd))) @ k.transpose(-2, -1)
    weights = (scores if mask is None else scores + mask).softmax(-1)
    if m.dropout > 0.0 and m.training:
        weights = F.dropout(weights, p=m.dropout)
    out = (weights @ v).transpose(0, 1).reshape(tgt * bsz, e)
    out = F.linear(out, m.out_proj.weight, m.out_proj.bias).view(tgt, bsz, e)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.view(bsz, heads, tgt, src)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return out, (weights if batched else weights.squeeze(0))


def _activation(activation: Any) -> Any:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


class TransformerEncoderLayer(Module):
    """torch's TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual,
    layer norm after (or, ``norm_first``, before) each; torch's submodule names and order."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        from crossgrad.nn import Dropout, LayerNorm

        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, mask: Tensor | None, padding: Tensor | None, is_causal: bool) -> Tensor:
        out = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=padding, need_weights=False,
                             is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (torch's ``layers.0...`` names), then ``norm``."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        import copy

        from crossgrad.nn import ModuleList

        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)
