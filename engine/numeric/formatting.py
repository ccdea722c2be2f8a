"""PyTorch-looking ``repr`` of tensors: ``tensor([0.2100, 0.2174], grad_fn=<AddBackward0>)``.

The layout follows torch's printing rules (precision 4, line width 80, more than 1000 elements
summarized to 3 at each edge): one element format for the whole tensor, chosen from its finite
nonzero values — integral floats as ``1.``, scientific (``1.0000e+03``) when the largest is over
1e8, the smallest under 1e-4 or their ratio over 1000, else four decimals — every element padded
to the widest, and rows wrapped to the line width.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_PREFIX = "tensor("
_EDGE, _THRESHOLD, _WIDTH, _PRECISION = 3, 1000, 80, 4


class _Style:
    """How every element of one tensor is written, and the width they are padded to."""

    def __init__(self, arr: np.ndarray) -> None:
        self.floating = arr.dtype.kind == "f"
        self.integral, self.sci, self.width = True, False, 1
        flat = arr.reshape(-1)
        if not self.floating:
            self.width = max((len(self._plain(v)) for v in flat.tolist()), default=1)
            return
        values = np.abs(flat[np.isfinite(flat) & (flat != 0)].astype(np.float64))
        if not values.size:
            return
        self.integral = bool(np.all(values == np.ceil(values)))
        low, high = float(values.min()), float(values.max())
        self.sci = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        signed = flat[np.isfinite(flat) & (flat != 0)].tolist()
        extra = 1 if self.integral and not self.sci else 0  # the "." after an integral float
        self.width = max(len(self._number(v)) + extra for v in signed)

    def _plain(self, v: Any) -> str:
        return str(bool(v)) if isinstance(v, bool) else str(v)

    def _number(self, v: float) -> str:
        if self.sci:
            return f"{v:.{_PRECISION}e}"
        return f"{v:.0f}" if self.integral else f"{v:.{_PRECISION}f}"

    def text(self, v: Any) -> str:
        if not self.floating:
            out = self._plain(v)
        else:
            out = self._number(v)
            if self.integral and not self.sci and math.isfinite(v):
                out += "."
        return out.rjust(self.width)


def _edges(arr: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: the first and last 3 along every long dim."""
    for axis in range(arr.ndim):
        if arr.shape[axis] > 2 * _EDGE:
            keep = np.r_[0:_EDGE, arr.shape[axis] - _EDGE:arr.shape[axis]]
            arr = np.take(arr, keep, axis=axis)
    return arr


def _vector(arr: np.ndarray, indent: int, summarize: bool, style: _Style) -> str:
    per_line = max(1, (_WIDTH - indent) // (style.width + 2))
    values = arr.tolist()
    if summarize and len(values) > 2 * _EDGE:
        items = [style.text(v) for v in values[:_EDGE]] + [" ..."] + [style.text(v) for v in values[-_EDGE:]]
    else:
        items = [style.text(v) for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr: np.ndarray, indent: int, summarize: bool, style: _Style) -> str:
    if arr.ndim == 0:
        return style.text(arr.item())
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, style)
    rows = range(arr.shape[0])
    if summarize and arr.shape[0] > 2 * _EDGE:
        parts = [_nested(arr[i], indent + 1, summarize, style) for i in rows[:_EDGE]] + ["..."] + \
                [_nested(arr[i], indent + 1, summarize, style) for i in rows[-_EDGE:]]
    else:
        parts = [_nested(arr[i], indent + 1, summarize, style) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(arr: np.ndarray) -> str:
    """The values as torch prints them (the size is added by format_tensor for empty tensors)."""
    if arr.size == 0:
        return "[]"
    summarize = arr.size > _THRESHOLD
    style = _Style(_edges(arr) if summarize else arr)
    return _nested(arr, len(_PREFIX), summarize, style)


def format_tensor(t: Any) -> str:
    """The body, then size (when empty and not 1-d), dtype (when not a default), then grad_fn or
    requires_grad."""
    suffix = []
    if t._data.size == 0 and t._data.shape != (0,):
        suffix.append(f"size={tuple(t._data.shape)}")
    if t._data.dtype not in (np.float32, np.int64, np.bool_):
        suffix.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    text = _PREFIX + _body(t._data)
    line = len(text) - text.rfind("\n") + 1  # torch's measure of the last line
    for item in suffix:  # on the last line while it fits, else on a new line under the values
        size = len(item.replace("crossgrad.", "torch."))  # laid out as torch lays out its own text
        if line + size + 2 > _WIDTH:
            text += ",\n" + " " * len(_PREFIX) + item
            line = len(_PREFIX) + size
        else:
            text += ", " + item
            line += size + 2
    return text + ")"
