"""Spawned worker processes for the CPU-heavy symbolic witness.

Each worker is started with the ``spawn`` method (never forked after gRPC starts), runs with an
address-space limit, and keeps its own structure caches. A call that overruns its deadline, or
whose client has gone, gets its worker killed and replaced; the caller gets
:class:`WitnessTimeout` and answers with the numeric result and the symbolic part marked timed
out.

A structure that a worker has already run (successfully, quickly) is "proven": its derivation is
known to be bounded. Later checks of a proven structure whose exact-tier work is tiny
(``INLINE_WORK`` units of exact.estimate_work, ~1 us each) run in the calling thread, without a
worker round trip: their derivation replays one whose first run finished within ``PROVEN_SECONDS``
in a memory-limited worker, and their evaluation takes about a millisecond, far below any deadline.
Everything else still goes to a worker.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import resource
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np
from crossgrad.engine.check import WitnessTimeout
from crossgrad.engine.graph import Plan

_CTX = mp.get_context("spawn")
INLINE_WORK = 2_000  # exact-tier units (~2 ms at the slow end) run in the caller when proven
PROVEN_SECONDS = 0.5  # a first run this fast in a worker (derivation included) proves a structure bounded
PROVEN_CACHE_SIZE = 1024


def _serve(conn: Any, memory_mb: int) -> None:
    """The worker loop: (validated plan, seed, tier) in, (gradients by leaf index) or an error out."""
    from .lifetime import die_with_parent

    die_with_parent(signal.SIGKILL)  # a server killed mid-check leaves no worker behind
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from crossgrad.engine.symbolic import exact, tensor

    first: dict[str, float] = {}  # structure -> seconds of its first run here (derivation included)
    while True:
        try:
            plan, seed, tier = conn.recv()
        except EOFError:
            return
        try:
            run = exact.gradients if tier == "exact" else tensor.gradients
            started = time.perf_counter()
            grads, _ = run(plan, seed)
            key = f"{tier}:{plan.structure_hash}"
            first.setdefault(key, time.perf_counter() - started)
            conn.send(("ok", (grads, first[key])))
        except BaseException as err:  # reported to the parent, which maps it
            conn.send(("error", f"{type(err).__name__}: {err}"))


@contextmanager
def _without_main_file() -> Iterator[None]:
    """Workers need nothing from the parent's __main__; spawn would re-run a main script (or fail
    when it is not a file, as with ``python -``), so its path is hidden while a worker starts."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None:
        del main.__file__  # type: ignore[union-attr]
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path  # type: ignore[union-attr]


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        self.conn, child = _CTX.Pipe()
        self.process = _CTX.Process(target=_serve, args=(child, memory_mb), daemon=True)
        with _without_main_file():
            self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class SymbolicPool:
    """A fixed number of workers; ``run`` blocks for a free one, bounded by the deadline."""

    def __init__(self, size: int = 2, memory_mb: int = 4096) -> None:
        self.memory_mb = memory_mb
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.replaced = 0
        self._lock = threading.Lock()
        self.proven: OrderedDict[str, None] = OrderedDict()
        self.inline_calls = 0
        for _ in range(size):
            self.idle.put(_Worker(memory_mb))

    def submit(self, plan: Plan, seed: np.ndarray, tier: str, deadline: float,
               alive: Callable[[], bool] = lambda: True) -> Callable[[], dict[int, np.ndarray]]:
        """Start the symbolic witness in a worker; the returned function waits for its gradients
        (or raises WitnessTimeout at ``deadline``, monotonic, or when ``alive()`` turns False)."""
        if self._inline(plan, tier):
            return _Pending(lambda: _run_inline(plan, seed))
        worker = self._acquire(deadline)
        try:
            worker.conn.send((plan, seed, tier))
        except OSError:
            self._replace(worker)
            raise WitnessTimeout("the worker died") from None
        return _Pending(lambda: self._collect(worker, deadline, alive, plan.structure_hash, tier))

    def run(self, plan: Plan, seed: np.ndarray, tier: str, deadline: float,
            alive: Callable[[], bool] = lambda: True) -> dict[int, np.ndarray]:
        return self.submit(plan, seed, tier, deadline, alive)()

    def _inline(self, plan: Plan, tier: str) -> bool:
        """A proven structure with tiny exact-tier work: run it here (see the module docstring)."""
        if tier != "exact" or plan.structure_hash not in self.proven:
            return False
        from crossgrad.engine.symbolic import exact

        if exact.estimate_work(plan) > INLINE_WORK:
            return False
        with self._lock:
            self.inline_calls += 1
        return True

    def _prove(self, structure: str, first_run: float) -> None:
        if first_run <= PROVEN_SECONDS:
            with self._lock:
                self.proven[structure] = None
                if len(self.proven) > PROVEN_CACHE_SIZE:
                    self.proven.popitem(last=False)

    def _collect(self, worker: _Worker, deadline: float, alive: Callable[[], bool], structure: str,
                 tier: str) -> dict[int, np.ndarray]:
        try:
            while not worker.conn.poll(0.05):
                if time.monotonic() > deadline or not alive() or not worker.process.is_alive():
                    why = "the worker died" if not worker.process.is_alive() else "the deadline passed"
                    raise WitnessTimeout(f"symbolic witness stopped: {why}")
            status, payload = worker.conn.recv()
        except (WitnessTimeout, EOFError, OSError) as err:
            self._replace(worker)
            raise err if isinstance(err, WitnessTimeout) else WitnessTimeout("the worker died") from None
        self.idle.put(worker)
        if status != "ok":
            raise WitnessTimeout(f"symbolic witness failed: {payload}")
        grads, first_run = payload
        if tier == "exact":
            self._prove(structure, first_run)
        return grads

    def _acquire(self, deadline: float) -> _Worker:
        """An idle worker that is alive (dead ones found here are replaced)."""
        while True:
            try:
                worker = self.idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise WitnessTimeout("no symbolic worker became free before the deadline") from None
            if worker.process.is_alive():
                return worker
            self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start its replacement in the background: spawning a Python process
        takes a while, and the call that found the dead or late worker must still answer in time."""
        worker.kill()
        with self._lock:
            self.replaced += 1
        threading.Thread(target=lambda: self.idle.put(_Worker(self.memory_mb)), daemon=True).start()

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().kill()


def _run_inline(plan: Plan, seed: np.ndarray) -> dict[int, np.ndarray]:
    """The exact tier in this thread; a failure is reported like a worker's."""
    from crossgrad.engine.symbolic import exact

    try:
        return exact.gradients(plan, seed)[0]
    except Exception as err:
        raise WitnessTimeout(f"symbolic witness failed: {type(err).__name__}: {err}") from None


class _Pending:
    """A submitted symbolic job: call it for the gradients; ``cancel()`` (when the check failed
    before collecting) still takes the worker's answer so the worker returns to the pool."""

    def __init__(self, collect: Callable[[], dict[int, np.ndarray]]) -> None:
        self._collect = collect

    def __call__(self) -> dict[int, np.ndarray]:
        return self._collect()

    def cancel(self) -> None:
        with suppress(WitnessTimeout):
            self._collect()


def runner(pool: SymbolicPool, deadline: float, alive: Callable[[], bool]) -> Callable[..., Any]:
    """The engine's symbolic hook for one request: (plan, seed, tier) -> a wait for the gradients."""

    def start(plan: Plan, seed: np.ndarray, tier: str) -> Callable[[], dict[int, np.ndarray]]:
        return pool.submit(plan, seed, tier, deadline, alive)

    return start
