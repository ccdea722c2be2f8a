"""A check's SymPy work beyond the first-order symbolic witness, in a symbolic worker.

The engine sends that work through ``engine.offload.call`` (order 2's symbolic witness, a program's
symbolic reference, the forward check, localization, claimed stages and closed forms after a
mismatch). For each request the server sets ``runner(pool, deadline, alive)``: ``fn(*args)``
travels to an idle worker of the pool as a CALL message — the function by its module and name
(only the engine's own functions are sent, never client text) and its arguments pickled — and
runs there under the worker's address-space limit. The request thread waits until the symbolic
deadline at most; then, or when the client has gone, the worker is killed and replaced and the
call raises WitnessTimeout, which the engine answers as a part that did not run. An exception
the function raises comes back as itself when it survives pickling, else by its kind (the
engine's typed errors keep their status; running out of memory is a failed witness).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from typing import Any

from crossgrad.engine import offload
from crossgrad.engine.check import WitnessTimeout

from . import leafbuf


def run(message: bytes) -> tuple[str, Any]:
    """In the worker: ("ok", the result) or ("raised", the exception, portable)."""
    fn, args = pickle.loads(message[1:])
    try:
        return "ok", fn(*args)
    except Exception as err:  # noqa: BLE001  (sent back to the request thread)
        return "raised", _portable(err)


def _portable(err: Exception) -> tuple[str, Any]:
    """The exception itself when it pickles back to its own type, else plain data (witness_pool's)."""
    from .witness_pool import _portable as as_data

    try:
        if type(pickle.loads(pickle.dumps(err))) is type(err) and not isinstance(err, MemoryError):
            return "object", err
    except Exception:  # noqa: BLE001, S110  (an exception that does not pickle travels as data)
        pass
    return "data", as_data(err)


def _rebuilt(payload: tuple[str, Any], memory_mb: int) -> Exception:
    from .witness_pool import _rebuilt as from_data

    kind, found = payload
    if kind == "object":
        return found
    if found[0] == "memory":
        return WitnessTimeout(f"symbolic witness failed: out of memory (its worker's {memory_mb} MB address space)")
    return from_data(found, memory_mb)


def call(pool: Any, fn: Callable[..., Any], args: tuple, deadline: float, alive: Callable[[], bool]) -> Any:
    """``fn(*args)`` in one of ``pool``'s workers, waited for until ``deadline`` (monotonic)."""
    if time.monotonic() >= deadline:  # nothing to wait for: no worker is taken, none killed
        raise WitnessTimeout("symbolic witness stopped: the deadline passed")
    message = leafbuf.CALL + pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL)
    worker = pool._acquire(deadline, "")
    with pool._lock:
        pool.calls += 1
    try:
        worker.conn.send_bytes(message)
    except OSError:
        pool._replace(worker)
        raise WitnessTimeout("the worker died") from None
    status, payload = pool.answer(worker, deadline, alive)
    pool._release(worker)
    if status == "ok":
        return payload
    if status == "raised":
        raise _rebuilt(payload, pool.memory_mb)
    raise WitnessTimeout(f"symbolic witness failed: {payload}")


def runner(pool: Any, deadline: float, alive: Callable[[], bool],
           before: Callable[[], None] | None = None) -> offload.Runner:
    """The request's offload runner; ``before`` runs first (a batch gives back the worker its
    group's job holds, so that a call never waits for it)."""

    def run_there(fn: Callable[..., Any], args: tuple) -> Any:
        if before is not None:
            before()
        return call(pool, fn, args, deadline, alive)

    return run_there
