"""Smaller parts of torch's top-level surface: the random generator's state
(``torch.get_rng_state``/``set_rng_state``, ``initial_seed``, ``seed``, ``Generator.get_state``/
``set_state``; ``Generator.seed`` stays the seed's value, not torch's reseeding method),
``torch.clamp_min``/``clamp_max`` as functions, ``norm(dtype=)``, ``torch.iinfo``, ``dtype.itemsize``,
``x.numpy(force=True)``, ``flatten`` returning the tensor itself when nothing merges (torch's),
``torch.backends`` (no mps/cuda/cudnn: reported unavailable; cudnn's flags settable) and
``torch.use_deterministic_algorithms`` (crossgrad is deterministic: the flag is only recorded).

A generator state is crossgrad's own (numpy PCG64's state as JSON bytes, held in an int64 tensor:
crossgrad has no uint8); it restores crossgrad's streams, not torch's, and torch's states are refused.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from . import dtypes
from . import functional_reductions as R
from .creation import Generator, default_generator
from .tensor import Tensor

_FORMAT = "crossgrad-rng-1"


def _get_state(self: Generator) -> Tensor:
    """This generator's state as a tensor of byte values (``set_state`` takes it back)."""
    text = json.dumps({"format": _FORMAT, "seed": self.seed, "state": self.rng.bit_generator.state})
    return Tensor._make(np.frombuffer(text.encode(), np.uint8).astype(np.int64))


def _set_state(self: Generator, new_state: Any) -> Generator:
    """Restore a state ``get_state`` returned (a torch state or other tensor is refused, by name)."""
    data = getattr(new_state, "_data", None)
    try:
        if data is None or data.ndim != 1 or data.dtype.kind not in "iu":
            raise ValueError
        saved = json.loads(bytes(data.astype(np.uint8)).decode())
        if saved.get("format") != _FORMAT:
            raise ValueError
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = saved["state"]
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise RuntimeError("set_rng_state: not a crossgrad generator state (get_rng_state() returns one; "
                           "torch's states are not crossgrad's)") from exc
    self.seed, self.rng = int(saved["seed"]), rng
    return self




def get_rng_state() -> Tensor:
    return _get_state(default_generator)


def set_rng_state(new_state: Any) -> None:
    _set_state(default_generator, new_state)


def initial_seed() -> int:
    return default_generator.initial_seed()


def seed() -> int:
    """Reseed the default generator from the operating system's entropy; the new seed (torch.seed)."""
    new = int(np.random.SeedSequence().entropy) % (2 ** 63)  # type: ignore[arg-type]
    default_generator.manual_seed(new)
    return new


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return input.clamp(min=min)  # type: ignore[attr-defined]


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return input.clamp(max=max)  # type: ignore[attr-defined]


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
    Tensor.numpy = _numpy  # type: ignore[method-assign]
    Tensor.flatten = _flatten  # type: ignore[method-assign,assignment]
    dtypes.dtype.itemsize = property(lambda self: self.np.itemsize)  # type: ignore[attr-defined]
