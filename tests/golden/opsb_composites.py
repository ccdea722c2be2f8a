"""The torch.nn.functional calls of issue 11 part B that crossgrad records as several catalogue
ops, with their inputs: shared by make_golden_opsb.py (torch) and tests/test_golden_opsb.py."""

from __future__ import annotations

import numpy as np

# torch.nn.functional calls that crossgrad records as several catalogue ops (name, shapes, kwargs)
COMPOSITES = [
    ("scaled_dot_product_attention", [(2, 5, 4), (2, 5, 4), (2, 5, 3)], {"is_causal": True}),
    ("scaled_dot_product_attention", [(2, 2, 3, 4), (2, 2, 6, 4), (2, 2, 6, 4)], {"scale": 0.3}),
    ("scaled_dot_product_attention", [(3, 4), (5, 4), (5, 2), "mask(3, 5)"], {}),
    ("scaled_dot_product_attention", [(3, 4), (5, 4), (5, 2), (3, 5)], {}),
    ("cosine_similarity", [(4, 6), (4, 6)], {}),
    ("cosine_similarity", [(3, 5), (1, 5)], {"dim": -1}),
]


def composite_inputs(shapes: list, seed: int = 0) -> list[np.ndarray]:
    """float64 values (and a bool mask with no all-False row for 'mask(r, c)') per composite."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if isinstance(s, str):
            rows, cols = (int(v) for v in s[5:-1].split(","))
            mask = rng.random((rows, cols)) < 0.6
            mask[:, 0] = True
            out.append(mask)
        else:
            out.append(rng.standard_normal(s))
    return out
