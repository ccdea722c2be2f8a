"""Recognising common mistakes: a wrong gradient compared against transformed references."""

from __future__ import annotations

import numpy as np


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-6 * max(1.0, np.abs(b).max())))


def _factor(got: np.ndarray, ref: np.ndarray) -> float | None:
    """c when got == c * ref (least squares, then verified)."""
    denom = float(np.sum(ref * ref))
    if got.shape != ref.shape or denom == 0.0:
        return None
    c = float(np.sum(got * ref)) / denom
    return c if _close(got, c * ref) and abs(c - 1.0) > 1e-3 else None


def _explain_factor(c: float) -> str:
    if abs(c + 1.0) < 1e-3:
        return "wrong sign (the gradient is negated)"
    rounded = round(c)
    if rounded >= 2 and abs(c - rounded) < 1e-3 * rounded:
        return (f"off by a constant factor of {rounded}: summed instead of averaged? "
                f"(forgot the mean's 1/N with N = {rounded})")
    if c > 0 and abs(1 / c - round(1 / c)) < 1e-3 / c and round(1 / c) >= 2:
        return f"off by a constant factor of 1/{round(1 / c)}: divided by N once too often?"
    return f"off by a constant factor of {c:.4g}"


def diagnose(got: np.ndarray, ref: np.ndarray, variants: dict[str, np.ndarray]) -> str | None:
    """The first common mistake that explains ``got``, or None."""
    if ref.ndim == 2 and got.shape == ref.T.shape and _close(got, ref.T) and not _close(got, ref):
        return "transposed (the gradient has the shape and values of its transpose)"
    c = _factor(got, ref)
    if c is not None and abs(c + 1.0) < 1e-3:
        return _explain_factor(c)
    for label, variant in variants.items():  # more specific than a bare factor: checked first
        if _close(got, variant) and not _close(variant, ref):
            return label
    return None if c is None else _explain_factor(c)
