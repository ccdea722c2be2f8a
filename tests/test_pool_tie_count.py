"""pool_kinks.has_tie counts hits against windows (engine/numeric/pool_kinks.py): the same answer
as the per-window count, on planted ties, padding windows, nan and -inf."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.numeric import pool_kinks


def _per_window(op: str, x: np.ndarray, at: dict) -> bool:
    values, _ = pool_kinks._rows(x, op, at)
    top = values.max(axis=1, keepdims=True)
    return bool(((values == top) & np.isfinite(top)).sum(axis=1).max(initial=0) > 1)


POOL = {"kernel_size": (2, 2), "stride": (2, 2), "padding": (1, 1), "dilation": (1, 1), "ceil_mode": False}


@pytest.mark.parametrize("op, at", [("max_pool2d", POOL), ("max_pool2d", {**POOL, "padding": (0, 0)}),
                                    ("adaptive_max_pool2d", {"output_size": (3, 2)})])
def test_matches_the_per_window_count(op: str, at: dict) -> None:
    rng = np.random.default_rng(0)
    answers = []
    for trial in range(40):
        x = rng.standard_normal((2, 3, 6, 5))
        if trial % 4 == 1:
            x[1, 2, 2, 2] = x[1, 2, 2, 3] = x[1, 2, 3, 2] = 9.0  # a planted tie
        if trial % 4 == 2:
            x[0, 0, 0, 0], x[0, 1] = np.nan, -np.inf  # nan max, an all -inf plane
        if trial % 4 == 3:
            x = np.round(x)  # many equal values, ties likely
        answers.append(pool_kinks.has_tie(op, x, at))
        assert answers[-1] == _per_window(op, x, at)
    assert any(answers) and not all(answers)
