"""The tolerance policy — the one place that decides what "agree" means.

Two witnesses agree on an element when

    |a - b| <= atol * scale + rtol * max(|a|, |b|) + floor * magnitude

where ``scale`` is the largest |value| either witness gives for that leaf, so ``atol`` is
relative to the leaf's gradient magnitude (an element that cancels to ~0 is judged against
the leaf's size, not its own), and ``floor`` is the rounding noise a witness leaves on a
gradient that is exactly zero (softmax(x).sum() has zero gradient; float32 gives ~1e-8),
scaled by ``magnitude``, the size of the terms that gradient is computed from
(engine/magnitudes.py) — never by the seed alone, so a small loss does not hide a wrong sign.
Every pair on a leaf uses the row of the leaf's dtype. Defaults:

- numeric (or claimed) against symbolic: float32 rtol 1e-4, atol 1e-5, floor 1e-6; float64
  rtol 1e-8, atol 1e-10, floor 1e-13;
- any pair with finite differences (float64 central differences, error ~eps^(2/3)): float64
  rtol 1e-5, atol 1e-7, floor 1e-8; float32 the float32 figures above.

Every call to ``check`` can override the numbers for all pairs.

Where the forward pass cancels large terms, a float-computed gradient (numeric, claimed) is also
allowed the spread forward rounding can give it (engine/forward_rounding.py), element by element,
unless the tolerance is overridden.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

REL_FLOOR = 1e-300  # keeps the symmetric relative difference finite when both values are 0


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    floor: float = 0.0

    def __post_init__(self) -> None:
        """A NaN bound made every comparison agree, a negative one every comparison mismatch."""
        from .errors import FieldError

        for name in ("rtol", "atol", "floor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) < math.inf:
                raise FieldError(f"tolerance.{name}", f"must be a finite number >= 0, got {value!r}")

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}*scale, floor={self.floor:g}*magnitude"


EXACT = {"float32": Tolerance(1e-4, 1e-5, 1e-6), "float64": Tolerance(1e-8, 1e-10, 1e-13)}
FINITE_DIFFERENCE = {"float32": Tolerance(1e-4, 1e-5, 1e-6), "float64": Tolerance(1e-5, 1e-7, 1e-8)}
LIMITED_BY_DTYPE = ("numeric", "claimed")


def policy(leaf_dtype: str, pair: tuple[str, str], override: Tolerance | None = None) -> Tolerance:
    """The tolerance for comparing ``pair`` of witnesses on a leaf of ``leaf_dtype``."""
    if override is not None:
        return override
    dtype = leaf_dtype  # one policy for every pair (a float32 leaf's values carry float32 rounding)
    table = FINITE_DIFFERENCE if "finite_difference" in pair else EXACT
    return table.get(dtype, table["float64"])


def note_override(report: Any, override: Tolerance | None) -> Any:
    """Say in the report that the caller's tolerance judged every pair (never a silent pass by a
    loose override), and where it is looser than the policy's loosest row."""
    if override is None:
        return report
    rows = (*EXACT.values(), *FINITE_DIFFERENCE.values())
    loosest = {k: max(getattr(t, k) for t in rows) for k in ("rtol", "atol", "floor")}
    loose = [f"{k} {getattr(override, k):g} > {v:g}" for k, v in loosest.items() if getattr(override, k) > v]
    looser = f"; looser than the policy's loosest ({', '.join(loose)})" if loose else ""
    report.notes.append(f"tolerance given by the caller for every pair: {override} — the dtype policy and the "
                        f"forward-rounding allowance are not applied{looser}")
    return report
