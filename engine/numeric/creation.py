"""Creating tensors: ``tensor``, ``ones``, ``randn``, ... and the seeded default generator."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import DeviceError
from . import dtypes
from . import torch_dists as dists
from .tensor import Tensor
from .torch_rng import Engine


class Generator:
    """A seeded random source drawing PyTorch's CPU stream (torch_rng: mt19937 as torch seeds it),
    like ``torch.Generator``: ``Generator()`` starts at torch's default seed; ``Generator(5)`` is
    crossgrad's shorthand for ``Generator().manual_seed(5)``."""

    def __init__(self, device: Any = "cpu") -> None:
        if isinstance(device, int) and not isinstance(device, bool):
            self.engine = Engine(device)
        else:
            if str(device).split(":")[0] != "cpu":
                raise DeviceError("crossgrad runs on one device, 'cpu'")
            self.engine = Engine()

    @property
    def device(self) -> str:
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        self.engine.manual_seed(seed)
        return self

    def initial_seed(self) -> int:
        return self.engine.initial_seed

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed (torch's ``seed()``)."""
        new = int.from_bytes(os.urandom(8), "little")
        self.engine.manual_seed(new)
        return new


default_generator = Generator(0)  # torch seeds its default from entropy; crossgrad starts at 0


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator: the same seed gives the same tensors, torch's numbers."""
    return default_generator.manual_seed(seed)


def _engine(generator: Generator | None) -> Engine:
    return (generator or default_generator).engine


def as_array(data: Any, dtype: dtypes.dtype | None = None) -> np.ndarray:
    """A fresh numpy array for ``tensor(data)``: Python floats become float32, ints int64."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=dtype.np)
    arr = np.array(data)
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray):
        return arr.astype(dtypes.DEFAULT_FLOAT.np)  # Python floats: torch's default dtype
    return arr.astype(dtypes.supported(arr.dtype).np, copy=False)


def _size(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(int(s) for s in size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor._make(arr).requires_grad_(requires_grad) if requires_grad else Tensor._make(arr)


def _float(dtype: dtypes.dtype | None) -> Any:
    return (dtype or dtypes.DEFAULT_FLOAT).np


def tensor(data: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def from_numpy(arr: np.ndarray) -> Tensor:
    """Shares memory with ``arr``, as torch.from_numpy does."""
    found = dtypes.supported(arr.dtype)
    return Tensor._make(arr.astype(found.np, copy=False))  # int32 etc. are copied as int64 (no such dtype here)


def zeros(*size: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return _new(np.zeros(_size(_sized(size, kw)), _float(dtype)), requires_grad)


def ones(*size: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return _new(np.ones(_size(_sized(size, kw)), _float(dtype)), requires_grad)


def _sized(size: tuple, kw: dict) -> tuple:
    """``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``; device="cpu" is accepted."""
    if "device" in kw and str(kw.pop("device")).split(":")[0] != "cpu":
        raise DeviceError("crossgrad runs on one device, 'cpu'")
    if "size" in kw:
        size = (kw.pop("size"),)
    if kw:
        raise TypeError(f"unexpected keyword argument {next(iter(kw))!r}")
    return size


def full(size: Any, fill_value: Any, dtype: dtypes.dtype | None = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(fill_value, (bool, int)):
        dtype = dtypes.bool_ if isinstance(fill_value, bool) else dtypes.int64
    return _new(np.full(_size((size,)), fill_value, _float(dtype)), requires_grad)


def randn(*size: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False,
          generator: Generator | None = None, **kw: Any) -> Tensor:
    return _new(_normal(_size(_sized(size, kw)), 0.0, 1.0, _float(dtype), generator), requires_grad)


def rand(*size: Any, dtype: dtypes.dtype | None = None, requires_grad: bool = False,
         generator: Generator | None = None, **kw: Any) -> Tensor:
    return _new(_uniform(_size(_sized(size, kw)), 0.0, 1.0, _float(dtype), generator), requires_grad)


def _normal(shape: tuple[int, ...], mean: float, std: float, np_dtype: Any, generator: Generator | None) -> np.ndarray:
    """torch's normal_ of a contiguous tensor of this shape (torch_dists.normal)."""
    n = int(np.prod(shape))
    return dists.normal(_engine(generator), n, mean, std, np.dtype(np_dtype).type).reshape(shape)


def _uniform(shape: tuple[int, ...], low: float, high: float, np_dtype: Any, generator: Generator | None) -> np.ndarray:
    """torch's uniform_ of a contiguous tensor of this shape (torch_dists.uniform)."""
    n = int(np.prod(shape))
    return dists.uniform(_engine(generator), n, low, high, np.dtype(np_dtype).type).reshape(shape)


def arange(start: Any = None, end: Any = None, step: Any = 1, dtype: dtypes.dtype | None = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    elif start is None:
        start = 0
    start, end, step = (v.item() if isinstance(v, Tensor | np.generic) else v for v in (start, end, step))
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.DEFAULT_FLOAT
    _check_range(start, end, step)
    return _new(np.arange(start, end, step).astype(dtype.np), requires_grad)


def _check_range(start: Any, end: Any, step: Any) -> None:
    """torch's arange refusals: a zero step, a step pointing away from the end."""
    start, end, step = (float(getattr(v, "_data", v)) for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def zeros_like(t: Tensor, dtype: dtypes.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(t._data.shape, (dtype.np if dtype else t._data.dtype)), requires_grad)


def ones_like(t: Tensor, dtype: dtypes.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(t._data.shape, (dtype.np if dtype else t._data.dtype)), requires_grad)


# --- the everyday surface (issue 11): random integers, ranges, *_like -----------------------
def randint(low: Any = None, high: Any = None, size: Any = None, dtype: dtypes.dtype | None = None,
            requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    """torch.randint(high, size) or randint(low, high, size): uniform integers in [low, high)."""
    if high is None:  # randint(high=10, size=...)
        low, high = 0, low
    elif size is None and not isinstance(high, int | np.integer):  # randint(10, (3,)), randint(10, size=...)
        low, high, size = 0, low, high
    elif low is None:
        low = 0
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _size((size,))
    out = (dtype or dtypes.int64).np
    digits = {np.dtype(np.float32): 24, np.dtype(np.float64): 53}.get(np.dtype(out))
    arr = dists.randint(_engine(generator), int(np.prod(shape)), int(low), int(high), digits).reshape(shape)
    return _new(arr.astype(out), requires_grad)


def randperm(n: int, dtype: dtypes.dtype | None = None, generator: Generator | None = None) -> Tensor:
    return Tensor._make(dists.randperm(_engine(generator), int(n)).astype((dtype or dtypes.int64).np))


def linspace(start: float, end: float, steps: int, dtype: dtypes.dtype | None = None,
             requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    return _new(np.linspace(start, end, int(steps)).astype(_float(dtype)), requires_grad)


def _like_float(t: Tensor, dtype: dtypes.dtype | None, name: str) -> Any:
    found = dtype or t.dtype
    if not found.is_floating_point:
        raise RuntimeError(f"{name} is not implemented for dtype {found.name}; pass a floating dtype")
    return found.np


def rand_like(t: Tensor, dtype: dtypes.dtype | None = None, requires_grad: bool = False,
              generator: Generator | None = None) -> Tensor:
    return _new(_uniform(t._data.shape, 0.0, 1.0, _like_float(t, dtype, "rand_like"), generator), requires_grad)


def randn_like(t: Tensor, dtype: dtypes.dtype | None = None, requires_grad: bool = False,
               generator: Generator | None = None) -> Tensor:
    return _new(_normal(t._data.shape, 0.0, 1.0, _like_float(t, dtype, "randn_like"), generator), requires_grad)


def randint_like(t: Tensor, low: int, high: Any = None, dtype: dtypes.dtype | None = None,
                 generator: Generator | None = None) -> Tensor:
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, t._data.shape, dtype=dtype or t.dtype, generator=generator)
