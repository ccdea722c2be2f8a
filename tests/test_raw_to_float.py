"""raw.to_floats' fast conversion equals mpmath's to_float at the exact tier's rounding (nearest,
ties to even) on random raw values of every mantissa width, exact ties, the subnormal and
overflow ranges, and zero / inf / nan."""

from __future__ import annotations

import math
import random

from crossgrad.engine.symbolic import raw
from mpmath import libmp


def _values() -> list[tuple]:
    rng = random.Random(0)
    values = []
    for _ in range(20_000):
        man = rng.getrandbits(rng.choice([1, 20, 53, 54, 100, 136])) | 1
        values.append((rng.randint(0, 1), man, rng.randint(-1130, 1030) - man.bit_length(), man.bit_length()))
    for _ in range(500):  # 54-bit mantissas ending in 1: exactly halfway between two floats
        man = (rng.getrandbits(53) | (1 << 52)) * 2 + 1
        values.append((rng.randint(0, 1), man, rng.randint(-1100, 980), man.bit_length()))
    return values + [libmp.fzero, libmp.finf, libmp.fninf, libmp.fnan, libmp.from_float(5e-324)]


def test_fast_to_floats_equals_mpmaths_rounding() -> None:
    values = _values()
    want = [libmp.to_float(v, rnd=raw.RND) for v in values]
    got = raw.to_floats(values)
    for v, a, b in zip(values, want, got):
        assert (a == b and math.copysign(1, a) == math.copysign(1, b)) or (math.isnan(a) and math.isnan(b)), v
    assert raw.to_floats([None]) == [0.0]
