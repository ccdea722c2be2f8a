"""Smaller parts of torch's top-level surface: the random generator's state
(``torch.get_rng_state``/``set_rng_state``, ``initial_seed``, ``seed``, ``Generator.get_state``/
``set_state``, ``Generator.seed`` reseeding from entropy as torch's does),
``torch.clamp_min``/``clamp_max`` as functions, ``norm(dtype=)``, ``torch.iinfo``, ``dtype.itemsize``,
``x.numpy(force=True)``, ``flatten`` returning the tensor itself when nothing merges (torch's),
``torch.backends`` (no mps/cuda/cudnn: reported unavailable; cudnn's flags settable) and
``torch.use_deterministic_algorithms`` (crossgrad is deterministic: the flag is only recorded).

A generator state is torch's own 5056-byte layout (``at::CPUGeneratorImplState``: seed, the
twister's words, the cached normal sample), held in an int64 tensor of byte values (crossgrad has
no uint8): ``torch.get_rng_state()`` after the same draws has the same bytes, and a torch state's
bytes restore the same stream here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from . import functional_reductions as R
from .autograd import node_class
from .creation import Generator, default_generator
from .tensor import Tensor


def _get_state(self: Generator) -> Tensor:
    """This generator's state as a tensor of torch's 5056 byte values (``set_state`` takes it back)."""
    return Tensor._make(np.frombuffer(self.engine.get_state(), np.uint8).astype(np.int64))


def _set_state(self: Generator, new_state: Any) -> Generator:
    """Restore a state ``get_state`` returned (or torch's bytes); anything else is refused, by name."""
    data = getattr(new_state, "_data", new_state)
    data = np.asarray(data) if isinstance(data, (np.ndarray, list, tuple)) else None
    if data is None or data.ndim != 1 or data.dtype.kind not in "iu" or data.size and (
            data.min() < 0 or data.max() > 255):
        raise RuntimeError("set_rng_state: expected a 1-D tensor of byte values (0..255), as get_rng_state() "
                           "returns")
    self.engine.set_state(bytes(data.astype(np.uint8)))
    return self


def get_rng_state() -> Tensor:
    return _get_state(default_generator)


def set_rng_state(new_state: Any) -> None:
    _set_state(default_generator, new_state)


def initial_seed() -> int:
    return default_generator.initial_seed()


def seed() -> int:
    """Reseed the default generator from the operating system's entropy; the new seed (torch.seed)."""
    return default_generator.seed()


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return _named(input.clamp(min=min), "ClampMinBackward" + ("1" if isinstance(min, Tensor) else "0"))  # type: ignore[attr-defined]


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return _named(input.clamp(max=max), "ClampMaxBackward" + ("1" if isinstance(max, Tensor) else "0"))  # type: ignore[attr-defined]


def _named(out: Tensor, grad_fn_name: str) -> Tensor:
    """``out`` under torch's grad_fn name for the function that made it (clamp_min is clamp in the catalogue)."""
    if out.grad_fn is not None:
        out.grad_fn.__class__ = node_class(grad_fn_name)
    return out


_NORM = R.norm


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Any = None,
         dtype: dtypes.dtype | None = None) -> Tensor:
    """torch.norm / x.norm with ``dtype=`` (the input cast first, as torch computes it)."""
    if out is not None:
        raise TypeError("norm(): out= is not supported")
    return _NORM(input if dtype is None else input.to(dtype), p, dim, keepdim)


class iinfo:  # noqa: N801 (torch.iinfo)
    """torch.iinfo(dtype): bits, max, min of an integer dtype (int64 here)."""

    def __init__(self, type: dtypes.dtype) -> None:  # noqa: A002
        if type.is_floating_point or type is dtypes.bool_:
            raise TypeError(f"iinfo(): argument 'type' must be an integer dtype, got {type!r}")
        info = np.iinfo(type.np)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), type.name


_NUMPY = Tensor.numpy
_FLATTEN = Tensor.flatten


def _numpy(self: Tensor, *, force: bool = False) -> np.ndarray:
    """x.numpy(); ``force=True`` is torch's detach first (there is only the cpu to copy from)."""
    return _NUMPY(self.detach() if force else self)


def _flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """torch returns the tensor itself when start and end name one dim (a 1-D tensor, x.flatten(1)
    of 2-D): no FlattenBackward/ViewBackward node; a 0-d tensor becomes 1-D."""
    if self.ndim == 0:
        return self.reshape(1)
    if start_dim % self.ndim == end_dim % self.ndim:
        return self
    return _FLATTEN(self, start_dim, end_dim)


class _Switches:
    """A backend that is not there: ``is_available()``/``is_built()`` False, flags settable."""

    def __init__(self, **flags: Any) -> None:
        self.__dict__.update(flags)

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class _Backends:
    """``torch.backends``: the reproducibility and device idioms (``backends.mps.is_available()``,
    ``backends.cudnn.deterministic = True``) run; nothing but the cpu exists."""

    def __init__(self) -> None:
        self.mps, self.cuda = _Switches(), _Switches()
        self.cudnn = _Switches(deterministic=False, benchmark=False, enabled=True, allow_tf32=True)


backends = _Backends()
_DETERMINISTIC = {"on": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded only: every crossgrad kernel is deterministic already."""
    _DETERMINISTIC["on"] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _DETERMINISTIC["on"]


FUNCTIONS = ("are_deterministic_algorithms_enabled", "backends", "use_deterministic_algorithms", "clamp_max",
             "clamp_min", "get_rng_state", "iinfo", "initial_seed", "norm", "seed", "set_rng_state")


def install() -> None:
    Generator.get_state = _get_state  # type: ignore[attr-defined]
    Generator.set_state = _set_state  # type: ignore[attr-defined]
    Tensor.norm = norm  # type: ignore[attr-defined]
    Tensor.clamp_min, Tensor.clamp_max = clamp_min, clamp_max  # type: ignore[attr-defined]
    Tensor.numpy = _numpy  # type: ignore[method-assign]
    Tensor.flatten = _flatten  # type: ignore[method-assign,assignment]
    dtypes.dtype.itemsize = property(lambda self: self.np.itemsize)  # type: ignore[attr-defined]
