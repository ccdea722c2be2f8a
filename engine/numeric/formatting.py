"""PyTorch-looking ``repr`` of tensors: ``tensor([0.2100, 0.2174], grad_fn=<AddBackward0>)``."""

from __future__ import annotations

from typing import Any

import numpy as np

_PREFIX = "tensor("


def _body(arr: np.ndarray) -> str:
    """Four fixed decimals, integral floats as ``1.``, scientific when numpy would need it."""
    if arr.dtype == np.bool_:  # torch pads to the widest word present: [True] but [ True, False]
        width = 5 if (~arr).any() else 4
        text = np.array2string(arr.reshape(-1) if not arr.ndim else arr, separator=", ", prefix=_PREFIX,
                               threshold=1000, formatter={"bool": lambda v: str(bool(v)).rjust(width)})
        return text[1:-1] if not arr.ndim else text
    if arr.dtype.kind != "f":
        return np.array2string(arr, separator=", ", prefix=_PREFIX, threshold=1000)
    finite = arr[np.isfinite(arr)]
    integral = finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 1e8)
    mode: Any = "maxprec" if integral else "fixed"
    with np.printoptions(precision=4, floatmode=mode, threshold=1000, edgeitems=3):
        if arr.ndim == 0:
            return np.array2string(arr.reshape(1), separator=", ")[1:-1].strip()
        return np.array2string(arr, separator=", ", prefix=_PREFIX)


def format_tensor(t: Any) -> str:
    """The body, then dtype (when not a default), then grad_fn or requires_grad."""
    suffix = []
    if t._data.dtype not in (np.float32, np.int64, np.bool_):
        suffix.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    extra = "".join(f", {s}" for s in suffix)
    return f"{_PREFIX}{_body(t._data)}{extra})"
