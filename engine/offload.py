"""Where a check's SymPy work runs: in this process by default, or where the caller says.

No deadline can stop SymPy in the calling thread (a Hessian of a 24-element product takes seconds,
differentiating a long expression twice minutes). The first-order symbolic witness already goes
through check's ``symbolic`` hook; every other SymPy-backed step a check can take goes through
``call``: order 2's symbolic witness, a program's symbolic reference, and after a mismatch the
forward check, op-level localization against the symbolic tier, claimed stages and closed forms.

A server sets a runner for the duration of a request (``using``): it sends ``fn(*args)`` to a
symbolic worker process, under the call's deadline and the worker's memory limit
(server/calls.py), and raises ``check.WitnessTimeout`` when that work overruns or its worker
fails; each site then answers without that part and says so. ``fn`` must be a module-level
function (it travels by name) and ``args`` picklable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Runner = Callable[[Callable[..., Any], tuple], Any]
_RUNNER: ContextVar[Runner | None] = ContextVar("crossgrad_offload", default=None)


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, here or by the runner the caller set."""
    runner = _RUNNER.get()
    return fn(*args) if runner is None else runner(fn, args)


@contextmanager
def using(runner: Runner | None) -> Iterator[None]:
    """Run this thread's ``call``s by ``runner`` inside the block (None: in this process)."""
    token = _RUNNER.set(runner)
    try:
        yield
    finally:
        _RUNNER.reset(token)
