"""PyTorch's CPU random kernels (aten/src/ATen/native/cpu/DistributionTemplates.h,
core/DistributionsHelper.h, TensorFactories.cpp) over a ``torch_rng.Engine``: the same draws from
the stream, the same conversions, the same float steps.

- ``uniform``: ``uniform_real_distribution`` — float32 from ``random()``'s low 24 bits, float64
  from ``random64()``'s low 53; ``x * (to - from) + from`` in the tensor's dtype.
- ``normal``: 16 or more values take ``normal_fill`` (all uniforms first, Box-Muller per block of
  16, the last block redrawn when the size is not a multiple of 16); float32 uses the AVX2
  kernel's float32 log/sincos (avx_mathfun) and a fused multiply-add, float64 libm's (Python's
  ``math``, the same libm). Fewer values take ``normal_distribution<double>`` one at a time,
  which caches its second (sin) sample on the generator.
- ``randint``: ``random() % range + low`` (``random64()`` from a range of 2**28, as torch 2.13).
- ``randperm``: the swap shuffle with ``random() % (n - i)``; ``random64()``'s inside-out
  shuffle from n >= 2**32 / 20.
- ``bernoulli``: a float64 uniform < p per element (the serial kernel torch 2.13 runs for
  ``bernoulli_(p)``, hence for dropout masks).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .avx_mathfun import fma32, fma64, log256, sincos256
from .torch_rng import Engine

_TWO_PI32 = np.float32(2.0 * math.pi)
_BIG_PERM = (2 ** 32 - 1) // 20  # torch's "small n" bound in randperm_cpu


def uniform(engine: Engine, n: int, low: float, high: float, dtype: type) -> np.ndarray:
    """tensor.uniform_(low, high): bounds cast to the dtype first, as torch's kernel casts them."""
    if dtype == np.float32:
        lo, hi = np.float32(low), np.float32(high)
        return fma32(engine.uniform32(n), np.float32(hi - lo), np.full(n, lo, np.float32))
    lo64, hi64 = float(low), float(high)
    return fma64(engine.uniform64(n), hi64 - lo64, lo64)


def normal(engine: Engine, n: int, mean: float, std: float, dtype: type) -> np.ndarray:
    """tensor.normal_(mean, std) of n contiguous values."""
    if n >= 16:
        return _fill32(engine, n, mean, std) if dtype == np.float32 else _fill64(engine, n, mean, std)
    values = np.array([_one_normal(engine) for _ in range(n)], np.float64)
    return fma64(values, float(std), float(mean)).astype(dtype)


def _one_normal(engine: Engine) -> float:
    """at::normal_distribution<double>: the cached sin sample if any, else a new Box-Muller pair."""
    if engine.next_double is not None:
        value, engine.next_double = engine.next_double, None
        return value
    u1, u2 = engine.uniform64(2)
    r = math.sqrt(-2.0 * math.log1p(-u2))
    theta = 2.0 * math.pi * u1
    engine.next_double = r * math.sin(theta)
    return r * math.cos(theta)


def _uniform_blocks(n: int, draw: Callable[[int], np.ndarray]) -> np.ndarray:
    """normal_fill's uniforms: n draws, then 16 more for the last block when n % 16 != 0."""
    u = draw(n)
    return np.concatenate([u, draw(16)]) if n % 16 else u


def _blocks(n: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first halves, second halves) of each 16-block, the redrawn tail block last."""
    full = n - n % 16
    parts = [u[:full].reshape(-1, 16)] + ([u[n:n + 16].reshape(1, 16)] if n % 16 else [])
    blocks = np.concatenate(parts)
    return blocks[:, :8], blocks[:, 8:]


def _assemble(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The blocks back in order; a redrawn tail block overwrites the last 16 values."""
    out = np.concatenate([first, second], axis=1)
    if not n % 16:
        return out.reshape(-1)
    return np.concatenate([out[:-1].reshape(-1)[:n - 16], out[-1]])


def _fill32(engine: Engine, n: int, mean: float, std: float) -> np.ndarray:
    """normal_fill_AVX2: radius = sqrt(-2 log(1 - u1)), theta = 2 pi u2, fma(r cos, std, mean)."""
    u = _uniform_blocks(n, engine.uniform32)
    a, b = _blocks(n, u)
    radius = np.sqrt(np.float32(-2.0) * log256(np.float32(1.0) - a))
    sin, cos = sincos256(_TWO_PI32 * b)
    m, s = np.float32(mean), np.float32(std)
    first = fma32(radius * cos, np.full_like(a, s), np.full_like(a, m))
    second = fma32(radius * sin, np.full_like(a, s), np.full_like(a, m))
    return _assemble(n, first.reshape(a.shape), second.reshape(a.shape))


def _fill64(engine: Engine, n: int, mean: float, std: float) -> np.ndarray:
    """normal_fill<double>: libm's log, cos and sin per pair, radius * cos * std + mean."""
    u = _uniform_blocks(n, engine.uniform64)
    a, b = _blocks(n, u)
    radius = np.array([math.sqrt(-2.0 * math.log(1.0 - v)) for v in a.ravel()]).reshape(a.shape)
    theta = 2.0 * math.pi * b
    cos = np.array([math.cos(t) for t in theta.ravel()]).reshape(a.shape)
    sin = np.array([math.sin(t) for t in theta.ravel()]).reshape(a.shape)
    return _assemble(n, fma64(radius * cos, std, mean), fma64(radius * sin, std, mean))


def randint(engine: Engine, n: int, low: int, high: int, digits: int | None = None) -> np.ndarray:
    """random_(low, high) as int64: (draw % range) + low. Measured on torch 2.13: a range of 2**28
    or more takes ``random64()``, a smaller one ``random()``; a floating dtype (``digits``: 24 or
    53 mantissa bits) first moves the bounds to values it can hold (torch's update_from/update_to)."""
    if digits is not None:
        low, high = _update_from(low, digits), _update_to(high, digits)
    span = high - low
    draws = engine.random64(n) if span >= 2 ** 28 else engine.random(n)
    return (draws % np.uint64(span)).astype(np.int64) + np.int64(low)


def _as_float(v: int, digits: int) -> int:
    return int(np.float32(v)) if digits == 24 else int(float(v))


def _update_from(low: int, digits: int) -> int:
    """torch's update_from: a low bound the dtype cannot hold moves up past its rounding."""
    plus_1 = _as_float(low + 1, digits)
    if plus_1 < low:
        low = plus_1 + (1 << (abs(low + 1).bit_length() - 1 - digits + 1))
    return low


def _update_to(high: int, digits: int) -> int:
    """torch's update_to: a high bound whose predecessor rounds up to it moves down."""
    minus_1 = _as_float(high - 1, digits)
    if minus_1 >= high:
        high = minus_1 - (1 << (abs(high - 1).bit_length() - 1 - digits + 1))
    return high


def randperm(engine: Engine, n: int) -> np.ndarray:
    """randperm_cpu: a swap shuffle of 0..n-1 for n < 2**32 / 20, else the inside-out shuffle."""
    if n >= _BIG_PERM:
        return _inside_out(engine, n)
    perm = np.arange(n, dtype=np.int64)
    if n < 2:
        return perm
    picks = (engine.random(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64).tolist()
    out = perm.tolist()
    for i, z in enumerate(picks):
        out[i], out[i + z] = out[i + z], out[i]
    return np.asarray(out, np.int64)


def _inside_out(engine: Engine, n: int) -> np.ndarray:
    picks = (engine.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).astype(np.int64).tolist()
    out = [0] * n
    for i, z in enumerate(picks):
        out[i] = out[z]
        out[z] = i
    return np.asarray(out, np.int64)


def bernoulli(engine: Engine, n: int, p: float) -> np.ndarray:
    """bernoulli_(p): uniform double < p, element by element (bool array)."""
    return engine.uniform64(n) < float(p)


def bernoulli_tensor(engine: Engine, p: np.ndarray) -> np.ndarray:
    """bernoulli_(p_tensor): float32 p draws a float32 uniform (random()), float64 p a double one."""
    flat = p.ravel()
    u = engine.uniform32(flat.size) if flat.dtype == np.float32 else engine.uniform64(flat.size)
    return (u < flat).reshape(p.shape)


def random_int64(engine: Engine) -> int:
    """``torch.empty((), dtype=torch.int64).random_()``: random64() % 2**63."""
    return int(engine.random64(1)[0] % np.uint64(2 ** 63))


def exponential(engine: Engine, n: int, lambd: float) -> np.ndarray:
    """exponential_(lambd) (the serial kernel): -1 / lambd * log1p(-u), u a float64 uniform."""
    return np.array([-1.0 / lambd * math.log1p(-u) for u in engine.uniform64(n)], np.float64)


def multinomial(engine: Engine, probs: np.ndarray, k: int, replacement: bool) -> np.ndarray:
    """torch.multinomial of 2-D ``probs``: one draw without replacement (or k == 1) is
    argmax/topk of p / q with q ~ Exp(1) per element; with replacement, a float64 uniform per
    sample searched in the row's cumulative sum (summed and normalised in the row's dtype)."""
    if not replacement or k == 1:
        q = exponential(engine, probs.size, 1.0).astype(probs.dtype).reshape(probs.shape)
        score = probs / q
        return np.argsort(-score, axis=-1, kind="stable")[:, :k].astype(np.int64)
    rows = []
    for row in probs:
        cum = np.cumsum(row, dtype=row.dtype)
        cum = cum / cum[-1]
        cum[-1] = 1
        rows.append(np.searchsorted(cum.astype(np.float64), engine.uniform64(k), side="left"))
    return np.asarray(rows, np.int64)


def dropout_mask(engine: Engine, shape: tuple[int, ...], p: float, dtype: type) -> np.ndarray:
    """torch's CPU dropout noise: ``empty(shape).bernoulli_(1 - p).div_(1 - p)``; p == 1 draws
    nothing (torch multiplies by zero)."""
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = bernoulli(engine, int(np.prod(shape)), 1.0 - p).reshape(shape)
    return keep.astype(dtype) / np.dtype(dtype).type(1.0 - p)
