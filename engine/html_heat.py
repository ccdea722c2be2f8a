"""Which heat-map cells are really off: the pair's own mismatched elements, not |a-b| / allowed > 1.

The page's ratio uses the pair's tolerance without the kink hull, the noise floor's magnitude or
the forward-rounding allowance, so an element on a relu kink (a `convention`) drew red and was
listed among the "worst" of a pair that says 0 off. When the pair lists every mismatched element
(``mismatched_indices``, up to 1,000), those are the red cells and the table; any other element
over the ratio is drawn blue, excused (kink convention, rounding noise or allowance).
"""

from __future__ import annotations

from typing import Any

import numpy as np

EXCUSED_RGB = (9, 105, 218)  # the convention badge's blue
Row = tuple[tuple[int, ...], float, float, float]  # index, a, b, |a-b| / allowed


def off_mask(pair: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """The pair's mismatched elements as a mask, or None when its list is incomplete (capped)."""
    if pair.unit != "elements" or len(pair.mismatched_indices) < pair.mismatched:
        return None
    mask = np.zeros(shape, bool)
    for index in pair.mismatched_indices:
        if len(index) == len(shape):
            mask[tuple(index)] = True
    return mask


def shown(ratio: np.ndarray, off: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The ratio to draw (off elements at least just over 1, excused ones at most 1) and the
    excused elements' mask."""
    if off is None:
        return ratio, np.zeros(ratio.shape, bool)
    excused = ~off & ~(ratio <= 1)
    drawn = np.where(off, np.maximum(np.nan_to_num(ratio, nan=np.inf), 1.0001), np.where(excused, 1.0, ratio))
    return drawn, excused


def worst_rows(pair: Any, off: np.ndarray | None, listed: int) -> list[Row] | None:
    """The table's rows from the pair's own worst-first list (index, a, b, excess), or None to fall
    back on the ratio."""
    if off is None:
        return None
    return [(tuple(i), a, b, e) for i, (a, b, e) in zip(pair.mismatched_indices[:listed], pair.mismatched_values)]
