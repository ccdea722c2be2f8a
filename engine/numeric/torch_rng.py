"""PyTorch's CPU random engine, draw for draw: ``at::CPUGeneratorImpl`` (mt19937 seeded as torch
seeds it, ``random()`` = one 32-bit draw, ``random64()`` = two, the first the high half), its
cached second normal sample, and its 5056-byte state (``get_rng_state``'s layout).

numpy's MT19937 bit generator does the drawing (the same recurrence and tempering as torch's
``at::mt19937``); this module only seeds it as torch does and keeps torch's bookkeeping.
"""

from __future__ import annotations

import struct

import numpy as np

N = 624  # the Mersenne twister's state words
STATE_BYTES = 5056  # sizeof(at::CPUGeneratorImplState) on x86-64
_HEAD = struct.Struct("<QiiQ")  # the_initial_seed, left, seeded, next
_TAIL = struct.Struct("<dddi4xf?3x")  # normal_x, normal_y, normal_rho, normal_is_valid, next float sample, valid
_WORDS = 24  # offset of state[624] (uint64 each)
DEFAULT_SEED = 67280421310721  # c10's default_rng_seed_val: torch.Generator()'s seed


def _init_genrand(seed32: int) -> np.ndarray:
    """mt19937's initial state from a 32-bit seed (Knuth's recurrence, as at::mt19937 does)."""
    key = np.empty(N, np.uint32)
    x = seed32
    for i in range(N):
        key[i] = x
        x = (1812433253 * (x ^ (x >> 30)) + i + 1) & 0xFFFFFFFF
    return key


class Engine:
    """One torch CPU generator's state: the twister, the initial seed, the cached normals."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        """torch's set_current_seed: the seed as uint64, the twister from its low 32 bits."""
        self.initial_seed = int(seed) % 2 ** 64
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": _init_genrand(self.initial_seed & 0xFFFFFFFF),
                                                                  "pos": N}}
        self._fresh = True  # torch's next_ is 0 until the first draw
        self.next_double: float | None = None
        self.next_float: float | None = None

    def random(self, n: int) -> np.ndarray:
        """n draws of ``random()``: uint32 values in a uint64 array."""
        if n <= 0:
            return np.zeros(0, np.uint64)
        self._fresh = False
        return self._bits.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        """n draws of ``random64()``: (first << 32) | second."""
        pairs = self.random(2 * n).reshape(n, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def uniform32(self, n: int) -> np.ndarray:
        """uniform_real_distribution<float>(0, 1): 24 random bits times 2**-24, from random()."""
        return ((self.random(n) & np.uint64(0xFFFFFF)).astype(np.float32) * np.float32(2.0 ** -24))

    def uniform64(self, n: int) -> np.ndarray:
        """uniform_real_distribution<double>(0, 1): 53 random bits times 2**-53, from random64()."""
        return (self.random64(n) & np.uint64(2 ** 53 - 1)).astype(np.float64) * 2.0 ** -53

    def get_state(self) -> bytes:
        """torch's 5056 bytes: ``torch.get_rng_state()`` of the same generator gives the same bytes."""
        st = self._bits.state["state"]
        pos = int(st["pos"])
        head = _HEAD.pack(self.initial_seed, N + 1 - pos, 1, 0 if self._fresh else pos)
        words = np.asarray(st["key"], np.uint32).astype("<u8").tobytes()
        normal = self.next_double
        tail = _TAIL.pack(0.0, 0.0 if normal is None else normal, 0.0, normal is not None,
                          0.0 if self.next_float is None else self.next_float, self.next_float is not None)
        return head + words + tail

    def set_state(self, data: bytes) -> None:
        """Restore ``get_state``'s bytes (torch's or crossgrad's: they are the same layout)."""
        if len(data) != STATE_BYTES:
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState of "
                               f"size 5056 but found the input RNG state size to be {len(data)}")
        seed, left, _seeded, nxt = _HEAD.unpack_from(data, 0)
        if not 1 <= left <= N:
            raise RuntimeError(f"set_rng_state: the state's 'left' count {left} is outside 1..624")
        key = np.frombuffer(data, "<u8", N, _WORDS).astype(np.uint32)
        _x, y, _rho, valid, fsample, fvalid = _TAIL.unpack_from(data, _WORDS + 8 * N)
        self.initial_seed = seed
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": N + 1 - left}}
        self._fresh = left == 1 and nxt == 0
        self.next_double = float(y) if valid else None
        self.next_float = float(fsample) if fvalid else None
