"""crossgrad dtypes: named objects like ``torch.float32``, each tied to one numpy dtype."""

from __future__ import annotations

from typing import Any

import numpy as np


class dtype:
    """A tensor element type. Only the instances below exist; compare with ``is`` or ``==``."""

    __slots__ = ("name", "np", "is_floating_point")

    def __init__(self, name: str, np_dtype: Any, is_floating_point: bool) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = is_floating_point

    def __repr__(self) -> str:
        return f"crossgrad.{self.name}"


float32 = dtype("float32", np.float32, True)
float64 = dtype("float64", np.float64, True)
int64 = dtype("int64", np.int64, False)
bool_ = dtype("bool", np.bool_, False)
float = float32  # noqa: A001  (torch.float is float32)
double = float64
long = int64

DEFAULT_FLOAT = float32
_BY_NUMPY = {d.np: d for d in (float32, float64, int64, bool_)}
_COERCE = {np.dtype(np.float16): float32, np.dtype(np.int32): int64, np.dtype(np.int16): int64,
           np.dtype(np.int8): int64, np.dtype(np.uint8): int64}


def of_array(arr: np.ndarray) -> dtype:
    return _BY_NUMPY[arr.dtype]


def supported(np_dtype: np.dtype) -> dtype:
    """The crossgrad dtype an incoming numpy dtype is stored as (TypeError if none)."""
    found = _BY_NUMPY.get(np_dtype) or _COERCE.get(np_dtype)
    if found is None:
        raise TypeError(f"can't convert np.ndarray of type {np_dtype}; supported: "
                        "float32, float64, int64 and bool")
    return found
