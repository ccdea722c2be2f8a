"""``torch.bernoulli``, ``torch.normal`` and the tensor methods ``bernoulli``/``bernoulli_``/
``exponential_``/``random_``, drawing torch's numbers (torch_dists) from the default generator or
``generator=``. Results are plain tensors: sampling records no gradient, as in torch."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..shapes import broadcast
from . import torch_dists as dists
from .creation import _engine, _float, _normal, _size, randint
from .tensor import Tensor


def _floats(t: Tensor, name: str) -> np.ndarray:
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"{name} is not implemented for dtype {t.dtype.name}; pass a floating tensor")
    return t._data


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """0/1 draws, each 1 with the probability in ``input`` (or the scalar ``p``), input's dtype."""
    probs = _floats(input, "bernoulli")
    if p is not None:
        return Tensor._make(dists.bernoulli(_engine(generator), probs.size, p).reshape(probs.shape).astype(probs.dtype))
    if probs.size and ((probs < 0) | (probs > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    return Tensor._make(dists.bernoulli_tensor(_engine(generator), probs).astype(probs.dtype))


def _bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """In place: a scalar p draws float64 uniforms; a tensor p (broadcast to self) draws per its dtype."""
    if isinstance(p, Tensor):
        probs = np.broadcast_to(_floats(p, "bernoulli_"), self._data.shape)
        return self._inplace(dists.bernoulli_tensor(_engine(generator), np.ascontiguousarray(probs)))
    if not 0 <= float(p) <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return self._inplace(dists.bernoulli(_engine(generator), self._data.size, float(p)).reshape(self._data.shape))


def _exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    data = _floats(self, "exponential_")
    values = dists.exponential(_engine(generator), data.size, float(lambd)).astype(data.dtype)
    return self._inplace(values.reshape(data.shape))


# random_() with no bounds: [0, 2**digits] for floats (every integer the mantissa holds), [0, max] for ints
_FULL = {"float32": 2**24 + 1, "float64": 2**53 + 1, "int64": 2**63, "bool": 2}


def _random_(self: Tensor, *bounds: Any, generator: Any = None, **kw: Any) -> Tensor:
    """torch's ``random_()``, ``random_(to)`` and ``random_(from, to)``: uniform integers drawn as
    randint draws them (the same kernel in torch), written in place."""
    if "to" in kw or "from" in kw:
        bounds = (kw.pop("from", 0), kw.pop("to", None))
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kw))}'")
    if len(bounds) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(bounds)} given)")
    low, high = (0, bounds[0]) if len(bounds) == 1 else (bounds + (0, None))[:2]
    if high is None:
        high = _FULL.get(self._data.dtype.name)
        if high is None:
            raise RuntimeError(f"random_ is not implemented for dtype {self.dtype.name}")
    drawn = randint(int(low), int(high), tuple(self._data.shape), dtype=self.dtype, generator=generator)
    return self._inplace(drawn)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """torch.normal's four forms: floats with ``size``; tensors: standard normals of the broadcast
    shape, then ``* std`` and ``+ mean`` as torch does (the same float steps)."""
    kw.pop("device", None)
    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: floats need a size")
        out = _normal(_size((size,)), float(mean), float(std), _float(dtype), generator)
        return Tensor._make(out).requires_grad_(True) if requires_grad else Tensor._make(out)
    like = mean if m_t else std
    data = _floats(like, "normal")
    shape = broadcast("normal", tuple(mean.shape), tuple(std.shape)) if m_t and s_t else tuple(like.shape)
    if s_t and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not s_t:
        out = _normal(shape, 0.0, float(std), data.dtype, generator)
    else:
        out = _normal(shape, 0.0, 1.0, data.dtype, generator) * std._data.astype(data.dtype)
    mean_part = mean._data if m_t else np.asarray(mean, data.dtype)
    return Tensor._make((out + mean_part.astype(data.dtype)).astype(data.dtype))


FUNCTIONS = ("bernoulli", "normal")


def install() -> None:
    Tensor.bernoulli = bernoulli  # type: ignore[attr-defined]
    Tensor.bernoulli_ = _bernoulli_  # type: ignore[attr-defined]
    Tensor.exponential_ = _exponential_  # type: ignore[attr-defined]
    Tensor.random_ = _random_  # type: ignore[attr-defined]
