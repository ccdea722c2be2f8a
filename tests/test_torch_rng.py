"""crossgrad's random streams equal torch 2.13's CPU generator under manual_seed, bit for bit:
every case of tests/golden/torch_rng_cases.py (recorded from torch into torch_rng.json) is rerun
with ``import crossgrad as torch`` and compared byte for byte; the seed study prints its numbers;
the float helpers round exactly once."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pathlib
import sys
from fractions import Fraction

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.numeric import torch_dists
from crossgrad.engine.numeric.avx_mathfun import fma32, fma64
from crossgrad.engine.numeric.torch_rng import STATE_BYTES, Engine

GOLDEN = pathlib.Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))
from torch_rng_cases import CASES  # noqa: E402

RECORDED = json.loads((GOLDEN / "torch_rng.json").read_text())["cases"]


def _same(entry: dict, arr: np.ndarray, where: str) -> None:
    arr = np.ascontiguousarray(arr)
    assert (arr.dtype.str, list(arr.shape)) == (entry["dtype"], entry["shape"]), where
    if "hex" in entry:
        want = np.frombuffer(bytes.fromhex(entry["hex"]), arr.dtype).reshape(arr.shape)
        assert arr.tobytes() == want.tobytes(), f"{where}: {arr.ravel()[:8]} != torch's {want.ravel()[:8]}"
    else:
        head = np.frombuffer(bytes.fromhex(entry["head"]), arr.dtype)
        assert arr.ravel()[:16].tobytes() == head.tobytes(), f"{where}: head {arr.ravel()[:4]} != {head[:4]}"
        assert hashlib.sha256(arr.tobytes()).hexdigest() == entry["sha256"], f"{where}: a later value differs"


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_bits_as_torch(name: str) -> None:
    got = CASES[name](crossgrad)
    assert sorted(got) == sorted(RECORDED[name])
    for key, arr in got.items():
        _same(RECORDED[name][key], arr, f"{name}.{key}")


STUDY = """Derivative of w:  tensor([[0.1083, 0.0369, 0.0726],
        [0.1083, 0.0369, 0.0726],
        [0.1083, 0.0369, 0.0726],
        [0.1083, 0.0369, 0.0726],
        [0.1083, 0.0369, 0.0726]])
Derivative of b:  tensor([0.1083, 0.0369, 0.0726])
"""


def test_seed_study_prints_its_numbers() -> None:
    """The seed notebook's cell (manual_seed(1); randn(5, 3); randn(3); BCE-with-logits) as printed there."""
    torch = crossgrad
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        torch.manual_seed(1)
        x, y = torch.ones(5), torch.zeros(3)
        w = torch.randn(5, 3, requires_grad=True)
        b = torch.randn(3, requires_grad=True)
        z = torch.matmul(x, w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        loss.backward()
        print("Derivative of w: ", w.grad)
        print("Derivative of b: ", b.grad)
    assert out.getvalue() == STUDY


def test_state_round_trip_and_layout() -> None:
    """get_rng_state is torch's 5056 bytes (seed first, 'left' = 624 - draws + 1); set_rng_state
    restores the stream and the cached normal sample."""
    torch = crossgrad
    torch.manual_seed(3)
    torch.randn(1)  # leaves a cached sin sample
    state = torch.get_rng_state()
    first = torch.randn(3)
    torch.set_rng_state(state)
    assert torch.equal(torch.randn(3), first)
    raw = bytes(state.numpy().astype(np.uint8))
    assert len(raw) == STATE_BYTES and int.from_bytes(raw[:8], "little") == 3
    assert int.from_bytes(raw[8:12], "little") == 625 - 4  # two random64 draws
    with pytest.raises(RuntimeError, match="size"):
        torch.set_rng_state(crossgrad.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="byte values"):
        torch.set_rng_state(crossgrad.tensor([0.5, 1.0]))


def test_generator_objects() -> None:
    """torch.Generator(): torch's default seed; manual_seed returns it; seed() reseeds from entropy."""
    g = crossgrad.Generator()
    assert g.initial_seed() == 67280421310721
    assert g.manual_seed(2 ** 64 - 1) is g and g.initial_seed() == 2 ** 64 - 1
    a = crossgrad.rand(4, generator=g.manual_seed(-1))  # torch wraps a negative seed to uint64
    assert g.initial_seed() == 2 ** 64 - 1 and torch_equal(a, crossgrad.rand(4, generator=g.manual_seed(-1)))
    new = g.seed()
    assert g.initial_seed() == new


def torch_equal(a: crossgrad.Tensor, b: crossgrad.Tensor) -> bool:
    return a.numpy().tobytes() == b.numpy().tobytes()


def test_fma_helpers_round_once() -> None:
    """fma32/fma64 equal the exactly rounded a*b + c (Fraction arithmetic), including the float32
    midpoint cases where rounding the float64 sum again would be wrong."""
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 300))
    got = fma64(a, b, c)
    assert all(float(Fraction(x) * Fraction(y) + Fraction(z)) == g for x, y, z, g in zip(a, b, c, got))
    assert (got != a * b + c).any()  # the two differ somewhere: the test can tell them apart
    a32 = np.float32([1 + 2 ** -12] * 3)  # a * a = 1 + 2**-11 + 2**-24: a float32 midpoint
    c32 = np.float32([2 ** -80, -(2 ** -80), 0.0])  # just above, just below, on it
    mid = 1 + 2 ** -11
    want = np.float32([mid + 2 ** -23, mid, mid])  # up, down, ties-to-even (down)
    assert fma32(a32, a32, c32).tobytes() == want.tobytes()
    assert (a32.astype(np.float64) ** 2 + c32).astype(np.float32)[0] != want[0]  # rounding twice is wrong there


def test_randperm_large_n_is_a_permutation() -> None:
    """torch's inside-out shuffle (n >= 2**32 / 20, too big to record) gives a permutation."""
    perm = torch_dists._inside_out(Engine(0), 1000)
    assert sorted(perm.tolist()) == list(range(1000)) and perm.tolist() != list(range(1000))


def test_more_seeds_live_against_torch() -> None:
    """Seeds and sizes outside the recorded grid, compared with the installed torch."""
    torch = pytest.importorskip("torch")
    for seed in (3, 99, 2 ** 33 + 1):
        for n in (2, 31, 48, 250):
            torch.manual_seed(seed)
            crossgrad.manual_seed(seed)
            for dt, cdt in ((torch.float32, crossgrad.float32), (torch.float64, crossgrad.float64)):
                want = torch.randn(n, dtype=dt).numpy().tobytes(), torch.rand(n, dtype=dt).numpy().tobytes()
                got = crossgrad.randn(n, dtype=cdt).numpy().tobytes(), crossgrad.rand(n, dtype=cdt).numpy().tobytes()
                assert got == want, (seed, n, dt)
