"""One BLAS thread per server process (numpy is already imported, so environment variables are too
late): the OpenBLAS that numpy loaded is found in /proc/self/maps and told directly, as
threadpoolctl does. A server's request threads and symbolic workers already use every core; a
large matmul spreading over all of them with spinning BLAS threads starves the small checks
(bench/bench_load.py --only starvation measures it)."""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

log = logging.getLogger("crossgrad.server")
_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas() -> ctypes.CDLL | None:
    import numpy  # noqa: F401  (loads its BLAS)

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split()[-1]
        if "openblas" in Path(path).name.lower() and ".so" in path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                return None
    return None


def _first(lib: ctypes.CDLL, names: tuple[str, ...]) -> object | None:
    for name in names:
        function = getattr(lib, name, None)
        if function is not None:
            return function
    return None


def threads() -> int | None:
    """numpy's OpenBLAS thread count now, or None when it is another BLAS."""
    lib = _openblas()
    getter = None if lib is None else _first(lib, _GETTERS)
    return None if getter is None else int(getter())  # type: ignore[operator]


def limit_threads(count: int = 1) -> int | None:
    """Set numpy's OpenBLAS to ``count`` threads; the count now in force, or None when this numpy
    uses another BLAS (then nothing is changed and OPENBLAS/OMP/MKL_NUM_THREADS are the way)."""
    lib = _openblas()
    setter = None if lib is None else _first(lib, _SETTERS)
    getter = None if lib is None else _first(lib, _GETTERS)
    if setter is None or getter is None:
        log.info("numpy's BLAS is not OpenBLAS: its thread count is left as it is")
        return None
    setter(count)  # type: ignore[operator]
    return int(getter())  # type: ignore[operator]
