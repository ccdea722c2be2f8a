"""Keep freed heap memory for reuse (glibc only; a no-op elsewhere).

glibc hands blocks above its mmap threshold straight back to the OS on free, so the next
multi-megabyte array of a float64 witness page-faults its memory in again. On this workload
the page faults cost more than the matrix products themselves (the seed MLP's tensor tier ran
4.1x an engine step with glibc's defaults, 2.4x with these). Like PyTorch's caching
allocator, the process then keeps up to :data:`TRIM_THRESHOLD` of freed memory.
Set ``CROSSGRAD_MALLOC_DEFAULTS=1`` to leave glibc's settings alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling for this setting on 64-bit
TRIM_THRESHOLD = 256 * 1024 * 1024

_tuned: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the settings once per process; True when they are in effect."""
    global _tuned
    if _tuned is None:
        _tuned = _apply()
    return _tuned


def _apply() -> bool:
    if os.environ.get("CROSSGRAD_MALLOC_DEFAULTS") == "1":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        if not hasattr(libc, "gnu_get_libc_version"):  # only glibc's mallopt has these meanings
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
